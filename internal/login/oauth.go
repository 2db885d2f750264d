package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pingedge/pingedge/internal/httpclient"
	"github.com/pingedge/pingedge/internal/secret"
)

// maxResponse bounds what pingedge reads from an issuer endpoint.
const maxResponse = 1 << 20

// OAuthError is an error response from an OAuth endpoint (RFC 6749 §5.2, RFC 8628 §3.5,
// RFC 7009 §2.2.1). Callers branch on Code.
type OAuthError struct {
	Endpoint    string // "token", "device authorization", "authorization", "revocation"
	Code        string // e.g. invalid_grant, slow_down
	Description string // error_description, cleaned of control characters and shortened
	Status      int
}

func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("%s endpoint said %s", e.Endpoint, e.Code)
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// TransientError is a failure that says nothing about the session: the network, a timeout, a 5xx.
// It never causes a refresh token to be deleted.
type TransientError struct {
	Endpoint string
	Err      error
}

func (e *TransientError) Error() string {
	return fmt.Sprintf("%s endpoint not available: %v", e.Endpoint, e.Err)
}

func (e *TransientError) Unwrap() error { return e.Err }

// tokenResponse is a successful token response (RFC 6749 §5.1; OIDC Core §3.1.3.3 for id_token).
type tokenResponse struct {
	AccessToken  secret.String
	TokenType    string
	RefreshToken secret.String
	IDToken      secret.String
	ExpiresIn    time.Duration // zero when absent
	Scope        string
}

type rawTokenResponse struct {
	AccessToken  string       `json:"access_token"`
	TokenType    string       `json:"token_type"`
	RefreshToken string       `json:"refresh_token"`
	IDToken      string       `json:"id_token"`
	ExpiresIn    flexibleSecs `json:"expires_in"`
	Scope        string       `json:"scope"`
}

// flexibleSecs accepts expires_in as a JSON number or a numeric string (some issuers send one).
type flexibleSecs int64

func (f *flexibleSecs) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("expires_in is not a number")
	}
	*f = flexibleSecs(n)
	return nil
}

type rawError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postForm sends an application/x-www-form-urlencoded POST (RFC 6749 §3.2) and decodes the JSON
// answer into out. Error bodies become *OAuthError; transport failures and 5xx *TransientError.
// Nothing from the request (which carries codes and refresh tokens) is put into an error.
func postForm(ctx context.Context, hc *http.Client, endpoint, name string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("%s endpoint %q: %w", name, endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := httpclient.Enforce(hc).Do(req)
	if err != nil {
		return requestError(ctx, name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return &TransientError{Endpoint: name, Err: err}
	}
	if resp.StatusCode == http.StatusOK {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s endpoint sent a response that is not OAuth JSON: %w", name, jsonErr(err))
		}
		return nil
	}
	return errorResponse(name, resp, body)
}

func errorResponse(name string, resp *http.Response, body []byte) error {
	var re rawError
	// Content-Type is not checked: issuers label their JSON errors in many ways.
	if json.Unmarshal(body, &re) == nil && re.Error != "" {
		oe := &OAuthError{Endpoint: name, Code: clean(re.Error, 64), Description: clean(re.Description, 200), Status: resp.StatusCode}
		// server_error and temporarily_unavailable (RFC 6749 §4.1.2.1) say nothing about the grant.
		if resp.StatusCode >= 500 || oe.Code == "server_error" || oe.Code == "temporarily_unavailable" {
			return &TransientError{Endpoint: name, Err: oe}
		}
		return oe
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return &TransientError{Endpoint: name, Err: fmt.Errorf("HTTP %d", resp.StatusCode)}
	}
	return &OAuthError{Endpoint: name, Code: fmt.Sprintf("http_%d", resp.StatusCode), Status: resp.StatusCode}
}

// requestError classifies a failed request: a refused redirect is the issuer's doing and is
// reported as such (never retried as a network blip); anything else is transient.
func requestError(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = stripURLError(err)
	if httpclient.IsRedirect(err) {
		return fmt.Errorf("%s endpoint: %w", name, err)
	}
	return &TransientError{Endpoint: name, Err: err}
}

// jsonErr keeps the kind of a JSON error but not its offset context (which could quote a token).
func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errors.New("invalid JSON")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q has the wrong type", te.Field)
	}
	return errors.New("undecodable JSON")
}

// stripURLError keeps the cause of a transport error and drops the URL, which for a
// GET could carry parameters.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// clean makes issuer-supplied text safe to print: printable characters only, bounded length.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func (r rawTokenResponse) toSecret() (*tokenResponse, error) {
	if r.AccessToken == "" {
		return nil, errors.New("token endpoint sent no access_token")
	}
	// DPoP (RFC 9449 §5) comes only to a request with a proof; dpopkey.Transport refuses the
	// opposite case (a proof sent, a bearer token back).
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "bearer") && !strings.EqualFold(r.TokenType, "N_A") && !strings.EqualFold(r.TokenType, "DPoP") {
		return nil, fmt.Errorf("token endpoint sent token_type %q: pingedge supports Bearer and DPoP tokens only", clean(r.TokenType, 32))
	}
	// RFC 6749 Appendix A.12 and A.17: access and refresh tokens are 1*VSCHAR (printable ASCII).
	// Anything else is refused here, so a token can never carry a terminal escape to stdout
	// (`pingedge token`) or a line break into an Authorization header.
	if !isVSCHAR(r.AccessToken) || r.RefreshToken != "" && !isVSCHAR(r.RefreshToken) {
		return nil, errors.New("token endpoint sent a token with characters outside printable ASCII (RFC 6749 Appendix A.12): the issuer is misbehaving; report it to its administrator")
	}
	return &tokenResponse{
		AccessToken:  secret.String(r.AccessToken),
		TokenType:    r.TokenType,
		RefreshToken: secret.String(r.RefreshToken),
		IDToken:      secret.String(r.IDToken),
		ExpiresIn:    time.Duration(r.ExpiresIn) * time.Second,
		Scope:        r.Scope,
	}, nil
}

func isVSCHAR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// tokenRequest posts a grant to the token endpoint.
func tokenRequest(ctx context.Context, hc *http.Client, endpoint string, form url.Values) (*tokenResponse, error) {
	var raw rawTokenResponse
	if err := postForm(ctx, hc, endpoint, "token", form, &raw); err != nil {
		return nil, err
	}
	return raw.toSecret()
}

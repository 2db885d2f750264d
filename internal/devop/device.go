package devop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// deviceEntry is one device authorization grant (RFC 8628 §3.1).
type deviceEntry struct {
	userCode string
	state    op.DeviceAuthorizationState
}

// StoreDeviceAuthorization implements op.DeviceAuthorizationStorage.
func (s *storage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	if clientID != s.client.id {
		return fmt.Errorf("devop: unknown client %q", clientID)
	}
	audience, err := s.audienceFor(ctx, clientID)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if _, dup := s.userCodes[userCode]; dup {
		return op.ErrDuplicateUserCode
	}
	s.devices[deviceCode] = &deviceEntry{userCode: userCode, state: op.DeviceAuthorizationState{
		ClientID: clientID, Audience: audience,
		Scopes: slices.Clone(scopes), Expires: expires,
	}}
	s.userCodes[userCode] = deviceCode
	return nil
}

// GetDeviceAuthorizatonState implements op.DeviceAuthorizationStorage (the
// misspelling is the op's). It returns a copy: the op appends to the
// audience of what it gets. An approved grant is handed out once and then
// forgotten, so a device code yields tokens a single time.
func (s *storage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.devices[deviceCode]
	if !ok || e.state.ClientID != clientID {
		return nil, errors.New("devop: device code unknown or already redeemed")
	}
	st := e.state
	st.Audience, st.Scopes, st.AMR = slices.Clone(st.Audience), slices.Clone(st.Scopes), slices.Clone(st.AMR)
	if st.Done {
		delete(s.devices, deviceCode)
		delete(s.userCodes, e.userCode)
	}
	return &st, nil
}

// normalizeUserCode accepts what a person might type: lower case, spaces,
// with or without the dash (RFC 8628 §6.1).
func normalizeUserCode(code string) string {
	code = strings.ToUpper(strings.Join(strings.Fields(code), ""))
	if len(code) == 8 && !strings.Contains(code, "-") {
		code = code[:4] + "-" + code[4:]
	}
	return code
}

func (s *storage) pendingDeviceLocked(userCode string) (*deviceEntry, error) {
	e, ok := s.devices[s.userCodes[normalizeUserCode(userCode)]]
	if !ok {
		return nil, errors.New("devop: user code unknown")
	}
	if time.Now().After(e.state.Expires) {
		return nil, errors.New("devop: user code expired")
	}
	if e.state.Done || e.state.Denied {
		return nil, errors.New("devop: user code already decided")
	}
	return e, nil
}

func (s *storage) approveDevice(userCode, subject string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[subject]; !ok {
		return fmt.Errorf("devop: approve device: unknown user %q", subject)
	}
	e, err := s.pendingDeviceLocked(userCode)
	if err != nil {
		return err
	}
	e.state.Done, e.state.Subject = true, subject
	e.state.AuthTime, e.state.AMR = time.Now(), []string{"pwd"}
	return nil
}

// approveDeviceForLoginUser is what the verification page does.
func (s *storage) approveDeviceForLoginUser(userCode string) (string, error) {
	s.mu.Lock()
	subject := s.loginUser
	s.mu.Unlock()
	return subject, s.approveDevice(userCode, subject)
}

func (s *storage) denyDevice(userCode string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.pendingDeviceLocked(userCode)
	if err != nil {
		return err
	}
	e.state.Denied = true
	return nil
}

func (s *storage) pruneDevicesLocked(now time.Time) {
	for dc, e := range s.devices {
		if now.After(e.state.Expires.Add(time.Minute)) {
			delete(s.devices, dc)
			delete(s.userCodes, e.userCode)
		}
	}
}

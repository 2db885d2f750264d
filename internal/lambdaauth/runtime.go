package lambdaauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pingedge/pingedge/internal/verify"
	"github.com/pingedge/pingedge/internal/verify/keyset"
	"github.com/pingedge/pingedge/internal/verify/policyfile"
)

// coldStartKeyWait bounds the key fetch at initialisation. Lambda's init phase has 10 s; a
// slower issuer leaves the keys to the first invocation rather than failing the whole init.
const coldStartKeyWait = 4 * time.Second

// Options are Run's external edges.
type Options struct {
	Getenv  func(string) string
	Stdout  io.Writer // audit lines (CloudWatch Logs)
	Stderr  io.Writer // operational log, JSON
	Fetcher keyset.Fetcher
}

// PolicyPath is where the function's policy is read: $PINGEDGE_POLICY, else policy.yaml in
// $LAMBDA_TASK_ROOT (where Lambda unpacks function.zip), else policy.yaml beside the process.
func PolicyPath(getenv func(string) string) string {
	if p := getenv("PINGEDGE_POLICY"); p != "" {
		return p
	}
	if root := getenv("LAMBDA_TASK_ROOT"); root != "" {
		return filepath.Join(root, "policy.yaml")
	}
	return "policy.yaml"
}

// Setup loads the policy, builds the engine and fetches the keys once for this execution
// environment. The engine, its key set (with its cooldown and stale-if-error rules) and its
// result cache live as long as the environment, across invocations. An issuer that cannot be
// reached here is not an init failure: the authorizer starts, denies every token with a logged
// reason (fail closed), and fetches again on a later request once the cooldown allows.
func Setup(ctx context.Context, opts Options) (*Authorizer, error) {
	log := slog.New(slog.NewJSONHandler(opts.Stderr, nil))
	path := PolicyPath(opts.Getenv)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w (the function zip must hold policy.yaml, or set PINGEDGE_POLICY)", err)
	}
	p, err := policyfile.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	eng, err := verify.NewEngine(p, verify.EngineOptions{Fetcher: opts.Fetcher, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r, ok := eng.KeySet().(interface{ Refresh(context.Context) error }); ok {
		wctx, cancel := context.WithTimeout(ctx, coldStartKeyWait)
		err := r.Refresh(wctx)
		cancel()
		if err != nil {
			log.Error("cold start: cannot fetch the issuer's signing keys; every token is denied until a fetch succeeds (retried on later requests)",
				"issuer", p.Issuer, "err", err)
		} else {
			log.Info("cold start: signing keys loaded", "issuer", p.Issuer)
		}
	}
	return New(eng, opts.Stdout), nil
}

// Run is the Lambda custom runtime: Setup, then the Runtime API loop (next invocation,
// response or error) through aws-lambda-go, which reads AWS_LAMBDA_RUNTIME_API. It returns only
// on a setup error; the caller reports it (Lambda records the exit as an init error).
func Run(ctx context.Context, opts Options) error {
	a, err := Setup(ctx, opts)
	if err != nil {
		return err
	}
	lambda.StartWithOptions(func(ctx context.Context, ev json.RawMessage) (any, error) {
		return a.Invoke(ctx, ev)
	}, lambda.WithContext(ctx))
	return nil
}

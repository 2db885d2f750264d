package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/lambdaauth"
)

// lambdaRuntimeEnv is set by AWS Lambda for a custom runtime's bootstrap (the Runtime API's
// host:port). pingedge started without arguments and with it set is the Lambda authorizer.
const lambdaRuntimeEnv = "AWS_LAMBDA_RUNTIME_API"

// LambdaBuildOptions are the flags of `pingedge edge lambda build`.
type LambdaBuildOptions struct {
	Policy, Out, Arch, Executable string
}

func newCmdEdgeLambda(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lambda",
		Short: "Deploy the verification core as an AWS API Gateway Lambda authorizer",
	}
	cmd.AddCommand(newCmdEdgeLambdaBuild(f, nil), newCmdEdgeLambdaRun(f))
	return cmd
}

func newCmdEdgeLambdaBuild(f *Factory, runF func(context.Context, *LambdaBuildOptions) error) *cobra.Command {
	opts := &LambdaBuildOptions{}
	cmd := &cobra.Command{
		Use:   "build --policy FILE --out DIR [--arch arm64|amd64]",
		Short: "Write a Lambda authorizer (bootstrap, policy, function.zip, SAM template, Terraform)",
		Long: `Write an AWS Lambda authorizer for API Gateway into DIR: bootstrap (this same pingedge,
for the provided.al2023 runtime), policy.yaml, function.zip (both), template.yaml (AWS SAM: an
HTTP API with the authorizer, payload format 2.0, simple responses) and main.tf (Terraform).

No Go toolchain is needed: the bootstrap is a linux pingedge release binary, which serves the
Lambda Runtime API when started with AWS_LAMBDA_RUNTIME_API set. Run this command with the
linux/<arch> binary, or pass that binary with --executable (from pingedge_<version>_linux_<arch>.tar.gz).
The authorizer result TTL is the policy's cache_ttl (at most 3600 s). See docs/lambda.md.`,
		Example: `  pingedge edge lambda build --policy policy.yaml --out build/lambda
  cd build/lambda && sam deploy --guided`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return lambdaBuildRun(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Policy, "policy", "", "policy file (YAML)")
	fl.StringVar(&opts.Out, "out", "", "directory to write the function into")
	fl.StringVar(&opts.Arch, "arch", "arm64", "Lambda architecture: arm64 or amd64")
	fl.StringVar(&opts.Executable, "executable", "", "the linux pingedge to ship (default: this one, when it is linux/<arch>)")
	return cmd
}

func lambdaBuildRun(f *Factory, opts *LambdaBuildOptions) error {
	if opts.Policy == "" || opts.Out == "" {
		return usageError("edge lambda build needs --policy FILE and --out DIR")
	}
	b, err := lambdaauth.Build(lambdaauth.BuildOptions{PolicyFile: opts.Policy, OutDir: opts.Out, Arch: opts.Arch,
		Executable: opts.Executable, Version: f.Version})
	if err != nil {
		return workerError(err) // a policy that does not load is a usage error, as for the Worker
	}
	if f.Global.JSON() {
		return json.NewEncoder(f.IO.Out).Encode(b)
	}
	fmt.Fprintf(f.IO.Out, "wrote %s (linux/%s, function.zip %d bytes, authorizer cache %d s)\n", b.Dir, b.Arch, b.ZipBytes, b.TTL)
	fmt.Fprintln(f.IO.Out, f.OutStyles().Dim.Render("next: cd "+b.Dir+" && sam deploy --guided   (or terraform apply with main.tf)"))
	return nil
}

// newCmdEdgeLambdaRun is what the bootstrap runs (also without arguments when
// AWS_LAMBDA_RUNTIME_API is set): the Lambda custom runtime loop.
func newCmdEdgeLambdaRun(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "run",
		Short:  "Serve the Lambda Runtime API loop (the bootstrap runs this)",
		Hidden: true,
		Args:   usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Getenv(lambdaRuntimeEnv) == "" {
				return usageError("edge lambda run is the Lambda bootstrap: it needs " + lambdaRuntimeEnv + " (set by AWS Lambda or the Runtime Interface Emulator)")
			}
			err := lambdaauth.Run(cmd.Context(), lambdaauth.Options{Getenv: f.Getenv, Stdout: f.IO.Out,
				Stderr: f.IO.ErrOut, Fetcher: edgeFetcher(f)})
			return workerError(err) // exits non-zero: Lambda records an init error with this line

		},
	}
}

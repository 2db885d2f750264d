package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pingedge/pingedge/internal/config"
	"github.com/pingedge/pingedge/internal/credstore"
	"github.com/pingedge/pingedge/internal/login"
)

const completionLong = `Print a shell completion script for pingedge on stdout. Commands, flags, flag values
(--format, --flow, --region, --store, -o) and saved profile names complete.

Install it once per shell:

  bash   pingedge completion bash > ~/.local/share/bash-completion/completions/pingedge
         (needs the bash-completion package; macOS with Homebrew:
          pingedge completion bash > $(brew --prefix)/etc/bash_completion.d/pingedge)
  zsh    pingedge completion zsh > "${fpath[1]}/_pingedge"
         (compinit must be enabled: autoload -U compinit && compinit; then open a new shell)
  fish   pingedge completion fish > ~/.config/fish/completions/pingedge.fish
  powershell
         pingedge completion powershell | Out-String | Invoke-Expression
         (add that line to $PROFILE to keep it)

Release archives and the Homebrew formula ship these scripts already (completions/).`

// newCmdCompletion builds `pingedge completion bash|zsh|fish|powershell`.
func newCmdCompletion() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script (see --help for how to install it)",
		Long:      completionLong,
		Args:      usageArgs(cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs)),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			default:
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
}

// flagValues are the fixed choices of flags, whichever command has them. Registering by name
// here keeps the choices in one place and out of each command's file.
func flagValues() map[string][]string {
	return map[string][]string{
		"format": {"raw\tthe token", "header\tan Authorization header line", "json", "k8s\tclient.authentication.k8s.io/v1 ExecCredential"},
		"flow":   {login.FlowAuto + "\tpkce with a browser, else device", login.FlowPKCE + "\tbrowser on this machine", login.FlowDevice + "\tcode on any device"},
		"region": config.Regions(),
		"store":  {credstore.KindKeychain + "\tthe OS keychain", credstore.KindFile + "\tplain-text 0600 file"},
		"output": {"text", "json"},
	}
}

// registerCompletions adds value completion for the fixed-choice flags on every command that
// has them, and saved profile names for --profile.
func registerCompletions(root *cobra.Command, f *Factory) {
	values := flagValues()
	_ = root.RegisterFlagCompletionFunc("output", fixed(values["output"]))
	_ = root.RegisterFlagCompletionFunc("profile", profileNames(f))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for name, choices := range values {
			if c.LocalNonPersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fixed(choices))
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// fixed completes the choices that start with what was typed (cobra leaves filtering to the
// completion function).
func fixed(choices []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, c := range choices {
			if strings.HasPrefix(c, prefix) {
				out = append(out, c)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// profileNames completes the saved profiles of the config file the command line names.
func profileNames(f *Factory) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		file, _, _, err := f.LoadConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []string
		for _, n := range file.Names() {
			if strings.HasPrefix(n, prefix) {
				out = append(out, fmt.Sprintf("%s\t%s", n, file.Profiles[n].Issuer))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

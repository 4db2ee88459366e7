package main

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/antimlabs/gizmo/cache"
	"github.com/antimlabs/gizmo/internal/exitcode"
)

// completionScripts holds one completion script per shell. Each asks gizmo
// itself for the words (urfave/cli's --generate-bash-completion), so the
// scripts never go stale as commands and flags change.
//
//go:embed completion/gizmo.bash completion/gizmo.zsh completion/gizmo.fish completion/gizmo.ps1
var completionScripts embed.FS

// completionShells maps a shell's name to its script's file.
var completionShells = map[string]string{
	"bash":       "completion/gizmo.bash",
	"zsh":        "completion/gizmo.zsh",
	"fish":       "completion/gizmo.fish",
	"powershell": "completion/gizmo.ps1",
}

func init() {
	register(&cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh, fish, powershell)",
		ArgsUsage: "bash|zsh|fish|powershell",
		Description: `Prints the script that completes gizmo's commands, subcommands, flags and the
asset ids and names held in the local cache (read from the cache, never from
the network). Install it once:

   bash:        source <(gizmo completion bash)          (in ~/.bashrc)
   zsh:         gizmo completion zsh > "${fpath[1]}/_gizmo"
   fish:        gizmo completion fish > ~/.config/fish/completions/gizmo.fish
   powershell:  gizmo completion powershell | Out-String | Invoke-Expression`,
		BashComplete: func(c *cli.Context) {
			for _, s := range []string{"bash", "zsh", "fish", "powershell"} {
				fmt.Fprintln(c.App.Writer, s)
			}
		},
		Action: func(c *cli.Context) error {
			args := c.Args().Slice()
			if len(args) != 1 {
				return exitcode.With(exitcode.Usage, errors.New("completion takes one shell: bash, zsh, fish or powershell"))
			}
			file, ok := completionShells[args[0]]
			if !ok {
				return exitcode.With(exitcode.Usage, fmt.Errorf("completion: unknown shell %q: use bash, zsh, fish or powershell", args[0]))
			}
			b, err := completionScripts.ReadFile(file)
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(b)
			return err
		},
	})
}

// setAssetCompletions makes the commands whose argument is an asset (their
// ArgsUsage starts with ID) complete it from the cache: ids, and names too
// where the command takes names (ID|NAME).
func setAssetCompletions(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.BashComplete == nil && strings.HasPrefix(c.ArgsUsage, "ID") {
			c.BashComplete = completeAssets(c, strings.HasPrefix(c.ArgsUsage, "ID|NAME"))
		}
		setAssetCompletions(c.Subcommands)
	}
}

// completeAssets completes a flag as urfave/cli does, and an argument with
// the assets of the cache.
func completeAssets(cmd *cli.Command, names bool) cli.BashCompleteFunc {
	flags := cli.DefaultCompleteWithFlags(cmd)
	return func(c *cli.Context) {
		// The word being completed comes just before the completion flag.
		if n := len(os.Args); n > 2 && strings.HasPrefix(os.Args[n-2], "-") {
			flags(c)
			return
		}
		for _, w := range cachedAssetWords(c, names) {
			fmt.Fprintln(c.App.Writer, w)
		}
	}
}

// cachedAssetWords lists the ids (and with names, the names that are one
// word) of the assets the cache knows. It reads only the cache, and creates
// none: without a cache there is nothing to complete.
func cachedAssetWords(c *cli.Context, names bool) []string {
	dir, err := cacheDir(c)
	if err != nil {
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	ch, err := cache.Open(dir)
	if err != nil {
		return nil
	}
	defer ch.Close()
	assets, err := ch.Assets()
	if err != nil {
		return nil
	}
	var words []string
	for _, a := range assets {
		words = append(words, a.ID)
		if names && a.Name != "" && !strings.ContainsAny(a.Name, " \t\r\n") {
			words = append(words, a.Name)
		}
	}
	return words
}

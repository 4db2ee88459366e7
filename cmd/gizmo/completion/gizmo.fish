# fish completion for gizmo:
#   gizmo completion fish > ~/.config/fish/completions/gizmo.fish
# Commands, subcommands and flags come from gizmo itself; asset ids and
# names from the local cache (never the network).
function __gizmo_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    if string match -q -- '-*' $cur
        $words $cur --generate-bash-completion 2>/dev/null
    else
        $words --generate-bash-completion 2>/dev/null
    end
end
complete -c gizmo -f -a '(__gizmo_complete)'

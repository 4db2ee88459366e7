# bash completion for gizmo: source it from ~/.bashrc,
#   source <(gizmo completion bash)
# or install it as a file:
#   gizmo completion bash > ~/.local/share/bash-completion/completions/gizmo
# Commands, subcommands and flags come from gizmo itself; asset ids and
# names from the local cache (never the network).
_gizmo_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  local opts
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  local IFS=$'\n'
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -o bashdefault -o default -F _gizmo_complete gizmo

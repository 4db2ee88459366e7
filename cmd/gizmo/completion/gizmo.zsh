#compdef gizmo
# zsh completion for gizmo: put it on $fpath as _gizmo,
#   gizmo completion zsh > "${fpath[1]}/_gizmo"
# or source it after compinit:
#   source <(gizmo completion zsh)
# Commands, subcommands and flags come from gizmo itself; asset ids and
# names from the local cache (never the network).
_gizmo() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
if [[ "$funcstack[1]" == "_gizmo" ]]; then
  _gizmo "$@"
else
  compdef _gizmo gizmo
fi

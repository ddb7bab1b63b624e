# Sourced by zsh-complete.zsh in the interactive zsh it drives: compinit, the script under test,
# and a compadd that prints what it is given.
PS1= PROMPT= RPROMPT=
autoload -Uz compinit
compinit -u -D
source $INOTOP_COMPLETION
zstyle ':completion:*' list-grouped false
compadd() {
  local -a matches
  builtin compadd -O matches "$@"
  (( $#matches )) && print -rn -- $'\x1e'${(pj:\x1f:)matches}$'\x1e'
  builtin compadd "$@"
}
completion-done() { print -rn -- $'\x1d' }
comppostfuncs=(completion-done)
bindkey '^I' complete-word

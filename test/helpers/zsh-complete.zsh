# zsh -f test/helpers/zsh-complete.zsh SCRIPT 'WORDS BEFORE THE CURSOR': the matches zsh's
# completion system offers after those words (with SCRIPT loaded after compinit), one a line. An
# interactive zsh on a pseudo-terminal (zsh/zpty) is sent the words and a Tab; its compadd,
# wrapped, prints every match it is given between record separators, and a group separator once
# the completion is done.
zmodload zsh/zpty
zpty completing INOTOP_COMPLETION=$1 zsh -f -i
zpty -w completing "source ${(q)${0:A:h}}/zsh-complete-setup.zsh"
zpty -w -n completing "$2"$'\t'
local out= chunk
integer tries=0
while (( tries++ < 200 )); do
  if zpty -r -t completing chunk; then
    out+=$chunk
    [[ $out == *$'\x1d'* ]] && break
  else
    sleep 0.05
  fi
done
zpty -d completing
[[ $out == *$'\x1d'* ]] || { print -u2 "no completion within 10 s: ${(q+)out}"; exit 2 }
local -a parts=("${(@ps:\x1e:)out}")
integer i
for (( i = 2; i <= $#parts; i += 2 )); do print -rl -- "${(@ps:\x1f:)parts[i]}"; done

# bash completion for latticed(8).
# shellcheck shell=bash

_latticed() {
	local cur prev words cword
	_init_completion || return

	case $prev in
	-f)
		_filedir 'conf'
		return
		;;
	--db)
		_filedir 'db'
		return
		;;
	--replay)
		_filedir 'jsonl'
		return
		;;
	--nats)
		mapfile -t COMPREPLY < <(compgen -W 'nats:// tls://' -- "$cur")
		compopt -o nospace
		return
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W '-d -f -h -n -V -v --db --nats
	    --replay --help --version' -- "$cur")
}
complete -F _latticed latticed

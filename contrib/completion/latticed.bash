# bash completion for latticed(8).
# shellcheck shell=bash

_latticed() {
	# shellcheck disable=SC2034 # _init_completion sets words and cword
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
		# a JSON Lines file, or - for standard input
		_filedir 'jsonl'
		[[ - == "$cur"* ]] && COMPREPLY+=(-)
		return
		;;
	--nats)
		mapfile -t COMPREPLY < <(compgen -W 'nats:// tls:// ws:// wss://' \
		    -- "$cur")
		compopt -o nospace
		return
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -W '-d -f -h -n -V -v --db --nats
	    --replay --help --version' -- "$cur")
}
complete -F _latticed latticed

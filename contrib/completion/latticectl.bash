# bash completion for latticectl(1).
# shellcheck shell=bash

_latticectl() {
	local cur prev words cword
	_init_completion || return

	case $prev in
	--db)
		_filedir 'db'
		return
		;;
	--status)
		mapfile -t COMPREPLY < <(compgen -W 'up stale stopped' -- "$cur")
		return
		;;
	--type)
		mapfile -t COMPREPLY < <(compgen -W 'host_started host_stopped
		    host_heartbeat component_scaled component_scale_failed
		    provider_started provider_stopped provider_start_failed
		    health_check_passed health_check_failed health_check_status
		    linkdef_set linkdef_deleted linkdef_set_failed config_set
		    config_deleted labels_changed' -- "$cur")
		return
		;;
	--interval | --busy-timeout | --since | --lattice | --host | --limit)
		return
		;;
	esac

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W '--db --json --watch
		    --interval --busy-timeout --lattice --host --status --since
		    --type --all --limit --help --version' -- "$cur")
		return
	fi
	local w
	for w in "${words[@]:1:cword-1}"; do
		case $w in
		hosts | components | providers | links | configs | alerts | events)
			return
			;;
		esac
	done
	mapfile -t COMPREPLY < <(compgen -W 'hosts components providers links
	    configs alerts events' -- "$cur")
}
complete -F _latticectl latticectl

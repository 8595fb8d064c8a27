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
		    host_heartbeat labels_changed component_scaled
		    component_scale_failed provider_started provider_stopped
		    provider_start_failed health_check_passed
		    health_check_failed health_check_status linkdef_set
		    linkdef_deleted linkdef_set_failed config_set config_deleted
		    invocation_succeeded invocation_failed actor_scaled
		    actor_scale_failed actor_started actor_stopped
		    actor_start_failed actors_started actors_stopped
		    actors_start_failed' -- "$cur")
		return
		;;
	--width | --interval | --busy-timeout | --since | --lattice | --host | \
	    --limit)
		return
		;;
	esac

	# the command given so far, skipping the values of options
	local w cmd='' skip=0
	for w in "${words[@]:1:cword-1}"; do
		if ((skip)); then
			skip=0
			continue
		fi
		case $w in
		--db | --width | --interval | --busy-timeout | --lattice | \
		    --host | --status | --since | --type | --limit)
			skip=1
			;;
		hosts | components | providers | links | configs | alerts | events)
			cmd=$w
			;;
		esac
	done

	if [[ $cur == -* ]]; then
		# the filters that apply to the command (all when none yet)
		local filters
		case $cmd in
		hosts | components | providers)
			filters='--lattice --host --status --since --limit' ;;
		links | configs)
			filters='--lattice --since --limit' ;;
		alerts)
			filters='--lattice --host --since --all --limit' ;;
		events)
			filters='--lattice --host --since --type --limit' ;;
		*)
			filters='--lattice --host --status --since --type --all
			    --limit' ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "--db --json --wide --width
		    --watch --watch-all --interval --busy-timeout $filters
		    --help --version" -- "$cur")
		return
	fi
	[[ -n $cmd ]] && return
	mapfile -t COMPREPLY < <(compgen -W 'hosts components providers links
	    configs alerts events' -- "$cur")
}
complete -F _latticectl latticectl

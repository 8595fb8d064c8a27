# install.cmake - what `cmake --install` puts in place besides the binaries
# (GNUInstallDirs): the systemd unit, sysusers.d and tmpfiles.d entries,
# the example configuration, the alert-command example, man pages, bash
# completion and the documentation.  The unit is generated so that its
# ExecStart= and Documentation= name the installed paths.
include(GNUInstallDirs)

set(LATTICED_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
    CACHE PATH "Where the systemd unit goes")
set(LATTICED_SYSUSERSDIR "${CMAKE_INSTALL_PREFIX}/lib/sysusers.d"
    CACHE PATH "Where the sysusers.d entry goes")
set(LATTICED_TMPFILESDIR "${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d"
    CACHE PATH "Where the tmpfiles.d entry goes")
# latticed reads /etc/latticed/latticed.conf whatever the prefix.
set(LATTICED_CONFDIR "/etc/latticed" CACHE PATH
    "Where latticed.conf lives (latticed's default is /etc/latticed)")
option(LATTICED_INSTALL_CONFIG
    "Create latticed.conf from the example when it is absent" ON)

set(LATTICED_SBINDIR "${CMAKE_INSTALL_FULL_SBINDIR}")
set(LATTICED_DOCDIR "${CMAKE_INSTALL_FULL_DOCDIR}")
set(LATTICED_LIBEXECDIR "${CMAKE_INSTALL_FULL_LIBEXECDIR}/latticed")
set(LATTICED_EXAMPLE
    "${CMAKE_INSTALL_FULL_DATADIR}/latticed/latticed.conf.example")
configure_file(${PROJECT_SOURCE_DIR}/systemd/latticed.service.in
    ${PROJECT_BINARY_DIR}/systemd/latticed.service @ONLY)
foreach(page latticed.8 latticed.conf.5 latticectl.1)
	configure_file(${PROJECT_SOURCE_DIR}/man/${page}.in
	    ${PROJECT_BINARY_DIR}/man/${page} @ONLY)
endforeach()

install(FILES ${PROJECT_BINARY_DIR}/systemd/latticed.service
    DESTINATION ${LATTICED_SYSTEMD_UNITDIR})
install(FILES systemd/latticed.sysusers DESTINATION ${LATTICED_SYSUSERSDIR}
    RENAME latticed.conf)
install(FILES systemd/latticed.tmpfiles DESTINATION ${LATTICED_TMPFILESDIR}
    RENAME latticed.conf)
install(FILES systemd/latticed.conf.example
    DESTINATION ${CMAKE_INSTALL_DATADIR}/latticed)
install(PROGRAMS contrib/alert-command-example.sh
    DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/latticed)
install(FILES contrib/grafana-dashboard.json contrib/prometheus-rules.yml
    DESTINATION ${CMAKE_INSTALL_DOCDIR}/contrib)
install(FILES ${PROJECT_BINARY_DIR}/man/latticed.8
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_BINARY_DIR}/man/latticed.conf.5
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_BINARY_DIR}/man/latticectl.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES contrib/completion/latticectl.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME latticectl)
install(FILES contrib/completion/latticed.bash
    DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
    RENAME latticed)
install(FILES README.md CHANGELOG.md LICENSE
    DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES docs/alerting.md docs/jetstream.md docs/operations.md
    docs/schema.md docs/security.md
    DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(FILES tools/latticectl/README.md
    DESTINATION ${CMAKE_INSTALL_DOCDIR}/latticectl)
install(DIRECTORY DESTINATION ${LATTICED_CONFDIR})

# latticed.conf: created from the example only when absent (an operator's
# file is never overwritten), 0640; on a live install (no DESTDIR) it is
# given to group latticed when that exists, so the service can read it.
if(LATTICED_INSTALL_CONFIG)
	install(CODE "
set(conf \"\$ENV{DESTDIR}${LATTICED_CONFDIR}/latticed.conf\")
if(EXISTS \"\${conf}\")
	message(STATUS \"Keeping: \${conf}\")
else()
	message(STATUS \"Installing: \${conf} (from the example)\")
	file(MAKE_DIRECTORY \"\$ENV{DESTDIR}${LATTICED_CONFDIR}\")
	configure_file(\"${PROJECT_SOURCE_DIR}/systemd/latticed.conf.example\"
	    \"\${conf}\" COPYONLY)
	execute_process(COMMAND chmod 0640 \"\${conf}\")
	if(\"\$ENV{DESTDIR}\" STREQUAL \"\")
		execute_process(COMMAND chgrp latticed \"\${conf}\"
		    RESULT_VARIABLE rc ERROR_QUIET)
		if(NOT rc EQUAL 0)
			message(STATUS \"No group latticed yet: run systemd-sysusers, then chgrp latticed \${conf}\")
		endif()
	endif()
endif()
")
endif()

#!/bin/sh
# Command-sink fixture: exits at once without reading its stdin.
exit 0

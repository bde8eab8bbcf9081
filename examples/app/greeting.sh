#!/bin/sh
echo "@GREETING@ on $(cat /etc/arch) (base: $(cat /etc/archc-base))"

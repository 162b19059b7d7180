// Package config reads the configuration of `switchboard serve`: its command-line
// flags and the SWITCHBOARD_* environment variables that stand in for them.
//
// The contract (DESIGN.md) is that every flag --name can also be given as the
// environment variable SWITCHBOARD_NAME (upper case, '-' as '_'); a flag on the
// command line wins over the environment, which wins over the default. Values are
// validated here, once, so the rest of the program receives a Serve it can trust.
package config

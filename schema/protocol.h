/* The contract between the launcher and libprogeny.so (docs/CONTRACT.md).
 * C-compatible so the shim can include it without the C++ library. */
#ifndef PROGENY_SHIM_PROTOCOL_H
#define PROGENY_SHIM_PROTOCOL_H

#define PROGENY_ENV_SOCK "PROGENY_SOCK"
#define PROGENY_ENV_LAUNCHER "PROGENY_LAUNCHER"
#define PROGENY_ENV_PDEATHSIG "PROGENY_PDEATHSIG"
#define PROGENY_ENV_SHIM "PROGENY_SHIM"
#define PROGENY_ENV_OPTS "PROGENY_OPTS"

/* Largest record, newline included: one send(), never interleaved. */
#define PROGENY_MAX_RECORD 4096
#define PROGENY_SCHEMA_VERSION 1

#endif

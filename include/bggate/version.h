/* version.h — the bg-gate version string. */
#ifndef BGGATE_VERSION_H
#define BGGATE_VERSION_H

#define BG_VERSION "0.1.0"

#endif

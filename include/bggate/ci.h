/* ci.h — native output for CI runners: collapsible sections per phase, annotations that
 * point at the failing golden-prompt line, a notice for the decision.
 *
 * GitHub Actions (GITHUB_ACTIONS=true): `::group::TITLE` / `::endgroup::`, and workflow
 * commands `::error file=F,line=N,title=T::MESSAGE` / `::notice title=T::MESSAGE`, with
 * the runner's escaping (% CR LF in the message; also : and , in properties). The runner
 * reads them from stdout; they go to stderr instead when stdout carries a result
 * (`--json`), which the runner reads too. GitLab CI (GITLAB_CI=true): collapsible
 * sections `ESC[0Ksection_start:EPOCH:ID[collapsed=true]\rESC[0KTITLE` … `section_end`,
 * on stderr with the log; GitLab has no log annotations (its MR widget reads the JUnit
 * report), so errors and notices print nothing extra there.
 *
 * The mode is process-wide: `--ci auto|github|gitlab|off` (default auto: detected from
 * the environment; BG_GATE_CI sets the same). Messages are bg-gate's own report text:
 * no credentials, headers or environment values ever reach them.
 */
#ifndef BGGATE_CI_H
#define BGGATE_CI_H

#include <stdbool.h>
#include <stdio.h>

#include "buf.h"
#include "error.h"

typedef enum { BG_CI_OFF = 0, BG_CI_GITHUB, BG_CI_GITLAB } bg_ci_mode;

/* GitHub shows at most this many annotations of one kind per step; bg-gate prints the
 * most important ones (thresholds, then failing cases) and one line for the rest. */
#define BG_CI_MAX_ANNOTATIONS 10

/* "auto" (→ bg_ci_detect), "github", "gitlab", "off"/"none". BG_EINVAL otherwise:
 * "--ci: expected auto, github, gitlab or off, got \"x\"". */
int bg_ci_parse(bg_ci_mode *out, const char *text, bg_error *err);
/* GITHUB_ACTIONS=true → github; GITLAB_CI=true → gitlab; else off. BG_GATE_CI, when
 * set to a valid mode, wins over both. */
bg_ci_mode bg_ci_detect(void);

/* Sets the process-wide mode. `commands_to_stderr`: stdout carries a result. */
void bg_ci_set(bg_ci_mode mode, bool commands_to_stderr);
bg_ci_mode bg_ci_get(void);

/* A collapsible section; id is [A-Za-z0-9_.-] (GitLab's rule), title is shown. Sections
 * do not nest: a begin closes the open one. No-ops when off. */
void bg_ci_section_begin(const char *id, const char *title);
void bg_ci_section_end(void);

typedef enum { BG_CI_ERROR, BG_CI_WARNING, BG_CI_NOTICE } bg_ci_level;

/* One annotation (GitHub only); file may be NULL, line <= 0 means none. */
void bg_ci_annotate(bg_ci_level level, const char *file, int line, const char *title,
                    const char *message);

/* Formatting, exposed for tests: the exact bytes the calls above print. */
int bg_ci_format_annotation(bg_buf *out, bg_ci_level level, const char *file, int line,
                            const char *title, const char *message);
int bg_ci_format_section(bg_buf *out, bg_ci_mode mode, bool begin, const char *id,
                         const char *title, long epoch);

#endif

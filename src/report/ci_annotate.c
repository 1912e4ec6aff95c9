/* ci_annotate.c — a finished run as CI annotations (ci.h): failed or inconclusive
 * thresholds first, then failing cases at their golden-prompt line, at most
 * BG_CI_MAX_ANNOTATIONS errors (GitHub shows no more per step) and one warning for the
 * rest; then a notice with the verdict or the deploy's decision.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bggate/ci.h"
#include "bggate/gate.h"
#include "bggate/paired.h"
#include "report_internal.h"

/* Annotation paths are relative to the repository checkout: strip $GITHUB_WORKSPACE/. */
static const char *workspace_relative(const char *path)
{
    const char *ws = getenv("GITHUB_WORKSPACE");
    size_t n = ws ? strlen(ws) : 0;
    if (path && n && strncmp(path, ws, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

static size_t annotate_thresholds(const bg_run *run, size_t budget)
{
    size_t used = 0;
    for (size_t i = 0; i < run->n_thresholds && used < budget; i++) {
        const bg_threshold_result *t = &run->thresholds[i];
        if (t->status == BG_TH_PASS)
            continue;
        char title[160];
        snprintf(title, sizeof title, "bg-gate threshold %s %s", t->th.name,
                 t->status == BG_TH_FAIL ? "not met" : "inconclusive");
        bg_ci_annotate(BG_CI_ERROR, NULL, 0, title, t->text);
        used++;
    }
    return used;
}

/* Whether case c of suite s passed on the baseline and failed here (paired.h). */
static bool regressed(const bg_run *run, size_t s, size_t c)
{
    const bg_paired *p = run->paired;
    for (size_t i = 0; p && i < p->n_regressions; i++)
        if (p->regressions[i].suite == s && p->regressions[i].kase == c)
            return true;
    return false;
}

/* Annotates failing cases while budget lasts; returns how many failed in all. */
static size_t annotate_cases(const bg_run *run, size_t budget)
{
    size_t failing = 0;
    for (size_t s = 0; s < run->n_suites; s++) {
        const bg_suite *su = run->suites[s];
        for (size_t c = 0; c < su->n_cases; c++) {
            const bg_case_result *r = bg_report_case(run, s, c);
            bg_report_status st = bg_report_status_of(r);
            if (st != BG_REPORT_FAILED && st != BG_REPORT_ERRORED)
                continue;
            if (failing++ >= budget)
                continue;
            char reason[BG_ERROR_MSG_MAX + 512], line[600], title[200];
            bg_report_line(line, sizeof line, bg_report_case_reason(reason, sizeof reason, r),
                           500);
            snprintf(title, sizeof title, "bg-gate case %s %s", su->cases[c].id,
                     regressed(run, s, c)           ? "regressed (passed on the baseline)"
                     : st == BG_REPORT_FAILED ? "failed"
                                              : "errored");
            bg_ci_annotate(BG_CI_ERROR, workspace_relative(su->path), su->cases[c].line, title,
                           line);
        }
    }
    return failing;
}

static void annotate_decision(const bg_run *run)
{
    char msg[600];
    bg_report_counts k;
    bg_report_count(&k, run, SIZE_MAX);
    if (run->decision && k.cases == 0)
        snprintf(msg, sizeof msg, "deploy %s%s%.12s", run->decision,
                 run->release_id ? " release " : "", run->release_id ? run->release_id : "");
    else if (run->decision)
        snprintf(msg, sizeof msg, "deploy %s%s%.12s: gate %s, %zu of %zu cases passed",
                 run->decision, run->release_id ? " release " : "",
                 run->release_id ? run->release_id : "", bg_verdict_name(run->verdict),
                 k.passed, k.cases);
    else
        snprintf(msg, sizeof msg, "gate %s: %zu of %zu cases passed%s%s",
                 bg_verdict_name(run->verdict), k.passed, k.cases,
                 run->verdict_reason ? "; " : "",
                 run->verdict_reason ? run->verdict_reason : "");
    bg_ci_annotate(BG_CI_NOTICE, NULL, 0, "bg-gate", msg);
}

void bg_report_ci_annotations(const bg_run *run)
{
    if (bg_ci_get() != BG_CI_GITHUB || !run)
        return;
    size_t used = annotate_thresholds(run, BG_CI_MAX_ANNOTATIONS);
    size_t budget = BG_CI_MAX_ANNOTATIONS - used;
    size_t failing = annotate_cases(run, budget);
    if (failing > budget) {
        char msg[200];
        snprintf(msg, sizeof msg, "%zu more failing cases are not annotated: see the JUnit report",
                 failing - budget);
        bg_ci_annotate(BG_CI_WARNING, NULL, 0, "bg-gate", msg);
    }
    annotate_decision(run);
}

/* gitfix.h — real git repositories for tests, built with libgit2 in a temp dir: write
 * files into the work tree and commit them (all of the work tree), tag, branch.
 */
#ifndef BGGATE_TEST_GITFIX_H
#define BGGATE_TEST_GITFIX_H

#include <git2.h>

typedef struct bgt_repo {
    git_repository *repo;
    char dir[512];
} bgt_repo;

/* git init in dir (created if missing). Returns 0 or -1. */
int bgt_repo_init(bgt_repo *r, const char *dir);
/* Writes dir/rel (creating parent directories). */
int bgt_repo_write(bgt_repo *r, const char *rel, const char *content);
/* Stages every file of the work tree and commits on HEAD; out (41 bytes) gets the id. */
int bgt_repo_commit(bgt_repo *r, const char *message, char out[41]);
/* An annotated tag on HEAD. */
int bgt_repo_tag(bgt_repo *r, const char *name);
void bgt_repo_close(bgt_repo *r);

#endif

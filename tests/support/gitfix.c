/* gitfix.c — libgit2 repository fixtures for tests (see gitfix.h). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "gitfix.h"

int bgt_repo_init(bgt_repo *r, const char *dir)
{
    memset(r, 0, sizeof *r);
    git_libgit2_init();
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    mkdir(dir, 0755);
    return git_repository_init(&r->repo, dir, 0) == 0 ? 0 : -1;
}

int bgt_repo_write(bgt_repo *r, const char *rel, const char *content)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", r->dir, rel);
    for (char *p = path + strlen(r->dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs(content, f);
    return fclose(f) == 0 ? 0 : -1;
}

int bgt_repo_commit(bgt_repo *r, const char *message, char out[41])
{
    git_index *idx = NULL;
    git_oid tree_id, commit_id, parent_id;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_commit *parent = NULL;
    int rc = -1;
    if (git_repository_index(&idx, r->repo) || git_index_add_all(idx, NULL, 0, NULL, NULL) ||
        git_index_write(idx) || git_index_write_tree(&tree_id, idx) ||
        git_tree_lookup(&tree, r->repo, &tree_id) ||
        git_signature_new(&sig, "bg-gate tests", "tests@example.invalid", 1700000000, 0))
        goto cleanup;
    if (git_reference_name_to_id(&parent_id, r->repo, "HEAD") == 0)
        git_commit_lookup(&parent, r->repo, &parent_id);
    const git_commit *parents[1] = {parent};
    if (git_commit_create(&commit_id, r->repo, "HEAD", sig, sig, NULL, message, tree,
                          parent ? 1 : 0, parents))
        goto cleanup;
    if (out)
        git_oid_tostr(out, 41, &commit_id);
    rc = 0;
cleanup:
    git_commit_free(parent);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    return rc;
}

int bgt_repo_tag(bgt_repo *r, const char *name)
{
    git_object *head = NULL;
    git_signature *sig = NULL;
    git_oid tag_id;
    int rc = -1;
    if (git_revparse_single(&head, r->repo, "HEAD") == 0 &&
        git_signature_new(&sig, "bg-gate tests", "tests@example.invalid", 1700000000, 0) == 0 &&
        git_tag_create(&tag_id, r->repo, name, head, sig, "release tag", 0) == 0)
        rc = 0;
    git_signature_free(sig);
    git_object_free(head);
    return rc;
}

void bgt_repo_close(bgt_repo *r)
{
    git_repository_free(r->repo);
    r->repo = NULL;
    git_libgit2_shutdown();
}

#!/usr/bin/env python3
"""runner.py — a small local runner for the bg-gate composite action, and its static checks.

It follows the GitHub runner's documented conventions for composite actions, enough to run
action/action.yml offline:
  * inputs: the `with:` values given here, else the input's default; no INPUT_* variables
    (the runner sets none for composite actions);
  * `${{ }}` expressions in env, with, working-directory and if, with the contexts inputs,
    steps.<id>.outputs / outcome / conclusion, github (action_path, workspace, ...), runner,
    env, and success() / failure() / always() / cancelled();
  * each step gets fresh GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV and GITHUB_PATH files,
    parsed afterwards as the runner does (NAME=VALUE, or NAME<<DELIM ... DELIM);
  * GITHUB_ACTION_PATH, GITHUB_WORKSPACE, GITHUB_ACTIONS=true, RUNNER_TEMP; shell `bash`
    runs `bash --noprofile --norc -eo pipefail FILE`, `sh` runs `sh -e FILE`;
  * a failed step skips the following steps whose `if` is success(); the action fails;
  * `uses:` steps (actions/cache) are not run: they behave as a cache miss.
A step summary over 1024 KiB is refused, as the runner refuses it.

  runner.py run ACTION_DIR --workspace DIR --result FILE [--input NAME=VALUE]... [--env NAME=VALUE]...
  runner.py lint ACTION_DIR WORKFLOW...          static checks (see lint())
  runner.py parse-file FILE                      parse a GITHUB_OUTPUT file, print JSON
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

SUMMARY_LIMIT = 1024 * 1024


class ExprError(Exception):
    pass


# --- file commands (GITHUB_OUTPUT, GITHUB_ENV) --------------------------------------------

def parse_file_command(text):
    """Parses NAME=VALUE and NAME<<DELIM lines as the runner's SetEnvFileCommand does."""
    out = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if line == "":
            continue
        eq = line.find("=")
        hd = line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            key, value = line[:eq], line[eq + 1:]
        elif hd >= 0:
            key, delim = line[:hd], line[hd + 2:]
            if not delim:
                raise ValueError("empty delimiter for %r" % key)
            body = []
            while True:
                if i >= len(lines):
                    raise ValueError("matching delimiter not found %r" % delim)
                cur = lines[i].rstrip("\r")
                i += 1
                if cur == delim:
                    break
                body.append(cur)
            value = "\n".join(body)
        else:
            raise ValueError("invalid format %r" % line)
        if not key:
            raise ValueError("empty name in %r" % line)
        out[key] = value
    return out


# --- expressions ---------------------------------------------------------------------------

TOKEN = re.compile(r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op>==|!=|&&|\|\||<=|>=|[!()<>,])
  | (?P<id>[A-Za-z_][A-Za-z0-9_.\-*]*)
)""", re.X)


def tokenize(s):
    pos, toks = 0, []
    s = s.strip()
    while pos < len(s):
        m = TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise ExprError("cannot parse %r at %d" % (s, pos))
        pos = m.end()
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
    return toks


class Expr:
    def __init__(self, text, ctx):
        self.toks = tokenize(text)
        self.i = 0
        self.ctx = ctx

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ExprError("expected %r, got %r" % (value, tok[1]))
        self.i += 1
        return tok

    def parse(self):
        v = self.or_()
        if self.i != len(self.toks):
            raise ExprError("trailing tokens: %r" % (self.toks[self.i:],))
        return v

    def or_(self):
        v = self.and_()
        while self.peek()[1] == "||":
            self.take()
            r = self.and_()
            v = v if truthy(v) else r
        return v

    def and_(self):
        v = self.cmp()
        while self.peek()[1] == "&&":
            self.take()
            r = self.cmp()
            v = r if truthy(v) else v
        return v

    def cmp(self):
        v = self.unary()
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            r = self.unary()
            eq = loose_eq(v, r)
            v = eq if op == "==" else not eq
        return v

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "num":
            return float(val)
        if val == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "id":
            if val in ("true", "false"):
                return val == "true"
            if val == "null":
                return None
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.or_())
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                return call(val, args, self.ctx)
            return lookup(val, self.ctx)
        raise ExprError("unexpected %r" % val)


def truthy(v):
    return not (v is None or v is False or v == "" or v == 0)


def loose_eq(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()  # GitHub compares strings case-insensitively
    return a == b


def call(name, args, ctx):
    status = ctx["_status"]
    if name == "success":
        return status == "success"
    if name == "failure":
        return status == "failure"
    if name == "always":
        return True
    if name == "cancelled":
        return False
    if name == "format":
        fmt = str(args[0])
        for k, a in enumerate(args[1:]):
            fmt = fmt.replace("{%d}" % k, to_str(a))
        return fmt
    raise ExprError("function %s() is not supported by this runner" % name)


def lookup(path, ctx):
    parts = path.split(".")
    root = parts[0]
    if root not in ("inputs", "steps", "github", "runner", "env"):
        raise ExprError("unknown context %r" % root)
    cur = ctx[root]
    if root == "inputs" and len(parts) > 1 and parts[1] not in cur:
        raise ExprError("inputs.%s is not a declared input" % parts[1])
    if root == "steps" and len(parts) > 1 and parts[1] not in ctx["_step_ids"]:
        raise ExprError("steps.%s: no step has that id" % parts[1])
    for p in parts[1:]:
        if isinstance(cur, dict):
            cur = cur.get(p)
        else:
            return None
    return cur


def to_str(v):
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def evaluate(text, ctx):
    return Expr(text, ctx).parse()


INTERP = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def interpolate(s, ctx):
    if not isinstance(s, str):
        return to_str(s)
    return INTERP.sub(lambda m: to_str(evaluate(m.group(1), ctx)), s)


def condition(cond, ctx):
    if cond is None:
        return ctx["_status"] == "success"
    if isinstance(cond, bool):
        return cond
    text = str(cond).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.S)
    if m:
        text = m.group(1)
    # as on GitHub, a condition without a status function implies success() && (...)
    if not re.search(r"\b(success|failure|always|cancelled)\s*\(", text):
        return ctx["_status"] == "success" and truthy(evaluate(text, ctx))
    return truthy(evaluate(text, ctx))


# --- running the action --------------------------------------------------------------------

def load_action(action_dir):
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def run(args):
    action_dir = os.path.abspath(args.action_dir)
    action = load_action(action_dir)
    workspace = os.path.abspath(args.workspace)
    given = dict(kv.split("=", 1) for kv in args.input)
    declared = action.get("inputs") or {}
    for k in given:
        if k not in declared:
            raise SystemExit("runner: input %r is not declared in action.yml" % k)
    inputs = {k: to_str(given.get(k, (v or {}).get("default", ""))) for k, v in declared.items()}
    steps_def = action["runs"]["steps"]
    tmp = tempfile.mkdtemp(prefix="bg-runner.", dir=args.temp)
    env = dict(os.environ)
    # a clean runner environment: nothing of an enclosing CI run (its GITHUB_SHA would
    # change what bg-gate resolves), and no INPUT_* (composite actions get none)
    for k in [k for k in env if k.startswith(("INPUT_", "GITHUB_", "RUNNER_", "ImageOS", "ImageVersion"))]:
        del env[k]
    env.update(dict(kv.split("=", 1) for kv in args.env))
    runner_temp = os.path.join(tmp, "runner-temp")
    os.makedirs(runner_temp)
    env.update({
        "GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_WORKSPACE": workspace,
        "GITHUB_ACTION_PATH": action_dir, "RUNNER_TEMP": runner_temp,
        "RUNNER_OS": env.get("RUNNER_OS", "Linux"), "RUNNER_ARCH": env.get("RUNNER_ARCH", "X64"),
    })
    extra_path = []
    ctx = {
        "inputs": inputs, "steps": {}, "env": env, "_status": "success",
        "_step_ids": {s["id"] for s in steps_def if "id" in s},
        "github": {"action_path": action_dir, "workspace": workspace, "sha": env.get("GITHUB_SHA", ""),
                   "run_id": env.get("GITHUB_RUN_ID", "1")},
        "runner": {"temp": runner_temp, "os": env["RUNNER_OS"], "arch": env["RUNNER_ARCH"]},
    }
    summary_all = os.path.join(tmp, "job-summary.md")
    open(summary_all, "w").close()
    record = []
    exit_code = 0
    log = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
    for n, step in enumerate(steps_def):
        sid = step.get("id", "__step%d" % n)
        name = interpolate(step.get("name", sid), ctx)
        if not condition(step.get("if"), ctx):
            print("runner: skip   %s" % name, file=log, flush=True)
            record.append({"id": sid, "name": name, "outcome": "skipped"})
            ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            continue
        if "uses" in step:
            with_ = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
            print("runner: uses   %s (%s, not run here: a cache miss) with %s"
                  % (name, step["uses"], json.dumps(with_)), file=log, flush=True)
            record.append({"id": sid, "name": name, "outcome": "not-run", "with": with_})
            ctx["steps"][sid] = {"outputs": {"cache-hit": "false"}, "outcome": "success",
                                 "conclusion": "success"}
            continue
        files = {}
        for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH"):
            files[var] = os.path.join(tmp, "%s.%d" % (var.lower(), n))
            open(files[var], "w").close()
        step_env = dict(env)
        step_env.update(files)
        if extra_path:
            step_env["PATH"] = os.pathsep.join(extra_path + [env.get("PATH", "")])
        for k, v in (step.get("env") or {}).items():
            step_env[k] = interpolate(v, ctx)
        cwd = step.get("working-directory")
        cwd = os.path.join(workspace, interpolate(cwd, ctx)) if cwd else workspace
        shell = step.get("shell")
        script = os.path.join(tmp, "step%d.sh" % n)
        with open(script, "w", encoding="utf-8") as f:
            f.write(step["run"])
        if shell == "bash":
            argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", script]
        elif shell == "sh":
            argv = ["sh", "-e", script]
        else:
            raise SystemExit("runner: step %r: shell %r is not supported" % (name, shell))
        print("runner: run    %s" % name, file=log, flush=True)
        proc = subprocess.run(argv, cwd=cwd, env=step_env, stdout=log, stderr=log,
                              timeout=args.timeout)
        outcome = "success" if proc.returncode == 0 else "failure"
        with open(files["GITHUB_OUTPUT"], encoding="utf-8") as f:
            outputs = parse_file_command(f.read())
        with open(files["GITHUB_ENV"], encoding="utf-8") as f:
            env.update(parse_file_command(f.read()))
        with open(files["GITHUB_PATH"], encoding="utf-8") as f:
            extra_path = [p for p in f.read().splitlines() if p] + extra_path
        size = os.path.getsize(files["GITHUB_STEP_SUMMARY"])
        if size > SUMMARY_LIMIT:
            print("runner: $GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of "
                  "1024k, got %dk" % (size // 1024), file=log, flush=True)
            record_summary_error = True
        else:
            record_summary_error = False
            with open(files["GITHUB_STEP_SUMMARY"], encoding="utf-8") as f, \
                    open(summary_all, "a", encoding="utf-8") as out:
                out.write(f.read())
        record.append({"id": sid, "name": name, "outcome": outcome, "exit_code": proc.returncode,
                       "summary_bytes": size, "summary_refused": record_summary_error})
        ctx["steps"][sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        if proc.returncode != 0:
            print("runner: step %s failed: exit code %d" % (name, proc.returncode), file=log, flush=True)
            if ctx["_status"] == "success":
                exit_code = proc.returncode
            ctx["_status"] = "failure"
    outputs = {k: interpolate((v or {}).get("value", ""), ctx)
               for k, v in (action.get("outputs") or {}).items()}
    result = {"status": ctx["_status"], "exit_code": exit_code, "outputs": outputs, "steps": record,
              "summary": summary_all,
              "path_added": extra_path}
    with open(args.result, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    return 0


# --- static checks -------------------------------------------------------------------------

RUN_LINE = re.compile(r'^(?:bash|sh) "\$GITHUB_ACTION_PATH/([A-Za-z0-9_-]+\.sh)"$')


def lint(args):
    """Prints one problem per line; exit 1 when there is one."""
    problems = []
    action_dir = os.path.abspath(args.action_dir)
    action = load_action(action_dir)
    raw = open(os.path.join(action_dir, "action.yml"), encoding="utf-8").read()
    inputs = action.get("inputs") or {}
    outputs = action.get("outputs") or {}
    steps = action["runs"]["steps"]
    if action["runs"].get("using") != "composite":
        problems.append("action.yml: runs.using is not composite")
    ids = {s["id"]: s for s in steps if "id" in s}
    scripts = {}
    for n, s in enumerate(steps):
        where = "action.yml: step %d (%s)" % (n + 1, s.get("name", s.get("id", "?")))
        if "run" in s:
            if not s.get("shell"):
                problems.append(where + ": run step without shell")
            if "${{" in s["run"]:
                problems.append(where + ": run script contains an expression (script injection)")
            m = RUN_LINE.match(s["run"].strip())
            if not m:
                problems.append(where + ": run is not a single call of a script in action/")
            elif not os.path.isfile(os.path.join(action_dir, m.group(1))):
                problems.append(where + ": %s does not exist" % m.group(1))
            elif "id" in s:
                scripts[s["id"]] = m.group(1)
    # every input is used, and only through env: (no INPUT_* for composite actions)
    for name in inputs:
        if not re.search(r"inputs\.%s\b(?!-)" % re.escape(name), raw):
            problems.append("action.yml: input %s is never used" % name)
    for m in re.finditer(r"inputs\.([A-Za-z0-9_-]+)", raw):
        if m.group(1) not in inputs:
            problems.append("action.yml: inputs.%s is not declared" % m.group(1))
    for sc in os.listdir(action_dir):
        if sc.endswith(".sh") and "INPUT_" in open(os.path.join(action_dir, sc), encoding="utf-8").read():
            problems.append("action/%s reads INPUT_* (composite actions get none)" % sc)
    # steps.X.outputs.Y: X is a step, and a run step's script sets Y
    for m in re.finditer(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", raw):
        sid, out = m.groups()
        if sid not in ids:
            problems.append("action.yml: steps.%s: no step has that id" % sid)
        elif sid in scripts:
            text = open(os.path.join(action_dir, scripts[sid]), encoding="utf-8").read()
            if not re.search(r"bg_set_output %s\b(?!-)" % re.escape(out), text):
                problems.append("action.yml: steps.%s.outputs.%s: %s never sets it"
                                % (sid, out, scripts[sid]))
    # the example workflows call the action with declared inputs and read declared outputs
    for wf in args.workflows:
        doc = yaml.safe_load(open(wf, encoding="utf-8"))
        text = open(wf, encoding="utf-8").read()
        base = os.path.basename(wf)
        if "permissions" not in doc:
            problems.append("%s: no top-level permissions (least privilege)" % base)
        uses_action = False
        for job_name, job in (doc.get("jobs") or {}).items():
            action_ids = set()
            for s in job.get("steps") or []:
                u = s.get("uses", "")
                if u == "./action" or re.fullmatch(r"[\w.-]+/bg-gate/action@[\w.-]+", u):
                    uses_action = True
                    if "id" in s:
                        action_ids.add(s["id"])
                    for k in (s.get("with") or {}):
                        if k not in inputs:
                            problems.append("%s: job %s: with.%s is not an input of the action"
                                            % (base, job_name, k))
                    if "command" not in (s.get("with") or {}):
                        problems.append("%s: job %s: the action is called without a command"
                                        % (base, job_name))
            for m in re.finditer(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", text):
                if m.group(1) in action_ids and m.group(2) not in outputs:
                    problems.append("%s: steps.%s.outputs.%s is not an output of the action"
                                    % (base, m.group(1), m.group(2)))
        if not uses_action:
            problems.append("%s: does not use the action" % base)
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("action_dir")
    r.add_argument("--workspace", required=True)
    r.add_argument("--result", required=True)
    r.add_argument("--input", action="append", default=[])
    r.add_argument("--env", action="append", default=[])
    r.add_argument("--log")
    r.add_argument("--temp")
    r.add_argument("--timeout", type=float, default=600)
    lt = sub.add_parser("lint")
    lt.add_argument("action_dir")
    lt.add_argument("workflows", nargs="*")
    pf = sub.add_parser("parse-file")
    pf.add_argument("file")
    a = ap.parse_args()
    if a.cmd == "run":
        return run(a)
    if a.cmd == "lint":
        return lint(a)
    with open(a.file, encoding="utf-8") as f:
        print(json.dumps(parse_file_command(f.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

/**
 * Shell completion scripts for `strata completion bash|zsh`, generated from the registered
 * commands (their paths, flags and positional arguments), so they never drift from the
 * CLI. Image and container arguments complete with names from the store the command line
 * points at (`--root`, `--storage-driver` are passed on).
 */

/** One command as completion needs it. */
export interface CompletionCommand {
  /** `["image", "ls"]`. */
  path: string[];
  description: string;
  /** Every flag spelling (`-a`, `--all`). */
  flags: string[];
  /** Flags that take a value (`-f`, `--filter`). */
  valueFlags: string[];
  /**
   * What its first positional argument is: names of images, containers or both
   * (`object`), a file, one of fixed words (`choices:bash zsh`), or nothing to complete.
   */
  args: "image" | "container" | "object" | "file" | "none" | `choices:${string}`;
}

/** Everything the scripts are generated from. */
export interface CompletionSpec {
  commands: CompletionCommand[];
  /** Management commands (`image`, `container`, `system`) and their descriptions. */
  groups: Readonly<Record<string, string>>;
  /** Global flags, and which of them take a value. */
  globalFlags: string[];
  globalValueFlags: string[];
  /** Storage driver names for `--storage-driver`. */
  drivers: string[];
}

/** clipanion's command definition (`cli.definitions()`), the parts used here. */
export interface CommandDefinition {
  path: string;
  usage: string;
  description?: string;
  options: { definition: string }[];
}

/** Build a command's completion entry from its clipanion definition. */
export function completionCommand(def: CommandDefinition, binary = "strata"): CompletionCommand {
  const path = def.path.split(" ").filter((w) => w !== binary && w !== "");
  const flags: string[] = [];
  const valueFlags: string[] = [];
  for (const o of def.options) {
    const [names = "", value] = o.definition.split(" ");
    for (const n of names.split(",")) {
      flags.push(n);
      if (value) valueFlags.push(n);
    }
  }
  const rest = def.usage.slice(def.usage.indexOf(path.join(" ")) + path.join(" ").length).trim();
  const first = rest.split(/\s+/)[0] ?? "";
  let args: CompletionCommand["args"] = "none";
  if (/CONTAINER/.test(first)) args = "container";
  else if (/NAME\|ID/.test(first)) args = "object";
  else if (/IMAGE|REPOSITORY|NAME\[/.test(first)) args = "image";
  else if (/file/i.test(first)) args = "file";
  else if (/^<[a-z]+(\|[a-z]+)+>$/.test(first))
    args = `choices:${first.slice(1, -1).replaceAll("|", " ")}`;
  return { path, description: (def.description ?? "").trim(), flags, valueFlags, args };
}

const FILE_FLAGS = ["--root", "--config", "-i", "--input", "-o", "--output", "--env-file"];

function q(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** `case` arms mapping a command path to a value, for the scripts' lookup functions. */
function cases(entries: [string[], string][]): string {
  const byValue = new Map<string, string[]>();
  for (const [keys, value] of entries) {
    const list = byValue.get(value) ?? [];
    list.push(...keys.map(q));
    byValue.set(value, list);
  }
  return [...byValue]
    .map(([value, keys]) => `    ${keys.join("|")}) echo ${q(value)} ;;`)
    .join("\n");
}

/** Shell functions both scripts share (POSIX `case`, which bash and zsh both read). */
function lookupFunctions(spec: CompletionSpec): string {
  const paths = spec.commands.map((c) => c.path.join(" "));
  const groupNames = Object.keys(spec.groups);
  const top = new Set([
    ...groupNames,
    ...spec.commands.filter((c) => c.path.length === 1).map((c) => c.path[0] ?? ""),
  ]);
  const subs: [string[], string][] = [[[""], [...top].sort().join(" ")]];
  for (const g of groupNames) {
    const under = spec.commands
      .filter((c) => c.path.length === 2 && c.path[0] === g)
      .map((c) => c.path[1] ?? "");
    subs.push([[g], [...new Set(under)].sort().join(" ")]);
  }
  const flags: [string[], string][] = spec.commands.map((c) => [
    [c.path.join(" ")],
    [...c.flags, "--help"].join(" "),
  ]);
  flags.push([[""], spec.globalFlags.join(" ")]);
  const values: [string[], string][] = spec.commands
    .filter((c) => c.valueFlags.length > 0)
    .map((c) => [[c.path.join(" ")], c.valueFlags.join(" ")]);
  values.push([[""], spec.globalValueFlags.join(" ")]);
  const args: [string[], string][] = spec.commands
    .filter((c) => c.args !== "none")
    .map((c) => [[c.path.join(" ")], c.args]);
  const known = [...new Set([...paths, ...groupNames])];
  return `_strata_known() {
  case "$1" in
    ${known.map(q).join("|")}) return 0 ;;
  esac
  return 1
}

_strata_subcommands() {
  case "$1" in
${cases(subs)}
  esac
}

_strata_flags() {
  case "$1" in
${cases(flags)}
  esac
}

_strata_value_flags() {
  case "$1" in
${cases(values)}
  esac
}

_strata_args() {
  case "$1" in
${cases(args)}
  esac
}

# _strata_scan WORD...: set _strata_path (the command path typed so far) and
# _strata_globals (global flags to pass on when listing images or containers).
_strata_scan() {
  _strata_path=""
  _strata_globals=()
  local w takes
  while [ $# -gt 0 ]; do
    w="$1"
    shift
    takes=" $(_strata_value_flags "$_strata_path") "
    case "$takes" in
      *" $w "*)
        [ -z "$_strata_path" ] && _strata_globals+=("$w" "$1")
        [ $# -gt 0 ] && shift
        continue
        ;;
    esac
    case "$w" in
      -*) [ -z "$_strata_path" ] && _strata_globals+=("$w") ;;
      *) if _strata_known "\${_strata_path:+$_strata_path }$w"; then _strata_path="\${_strata_path:+$_strata_path }$w"; fi ;;
    esac
  done
}

# _strata_candidates CUR PREV: print the words that may come next.
_strata_candidates() {
  local cur="$1" prev="$2" a
  case "$prev" in
    --storage-driver|-s) echo ${q(spec.drivers.join(" "))}; return ;;
  esac
  case " $(_strata_value_flags "$_strata_path") " in
    *" $prev "*)
      case " ${FILE_FLAGS.join(" ")} " in
        *" $prev "*) echo "__files__" ;;
      esac
      return
      ;;
  esac
  case "$cur" in
    -*) _strata_flags "$_strata_path"; return ;;
  esac
  local subs
  subs="$(_strata_subcommands "$_strata_path")"
  if [ -n "$subs" ]; then echo "$subs"; return; fi
  case "$(_strata_args "$_strata_path")" in
    image|object) strata "\${_strata_globals[@]}" images --format '{{if ne .Repository "<none>"}}{{.Repository}}:{{.Tag}}{{end}}' 2>/dev/null ;;
  esac
  case "$(_strata_args "$_strata_path")" in
    container|object) strata "\${_strata_globals[@]}" ps -a --format '{{.Names}}' 2>/dev/null ;;
    file) echo "__files__" ;;
    choices:*) a="$(_strata_args "$_strata_path")"; echo "\${a#choices:}" ;;
  esac
}
`;
}

/** The bash completion script (`source <(strata completion bash)`). */
export function bashCompletion(spec: CompletionSpec): string {
  return `# bash completion for strata                               -*- shell-script -*-
# Load with: source <(strata completion bash)
# or save to /etc/bash_completion.d/strata

${lookupFunctions(spec)}
_strata() {
  local cur prev words cword
  if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
    _get_comp_words_by_ref -n =: cur prev words cword
  else
    cur="\${COMP_WORDS[COMP_CWORD]}"
    prev="\${COMP_WORDS[COMP_CWORD-1]}"
    words=("\${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi
  _strata_scan "\${words[@]:1:cword-1}"
  local out
  out="$(_strata_candidates "$cur" "$prev")"
  if [ "$out" = "__files__" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
  if declare -F __ltrim_colon_completions >/dev/null 2>&1; then
    __ltrim_colon_completions "$cur"
  fi
}

complete -F _strata strata
`;
}

/** The zsh completion script (`source <(strata completion zsh)`, or as `_strata` in fpath). */
export function zshCompletion(spec: CompletionSpec): string {
  const described = spec.commands
    .map((c) => `${c.path.join(" ")}\t${c.description.replaceAll(":", "\\:")}`)
    .concat(Object.entries(spec.groups).map(([g, d]) => `${g}\t${d}`));
  return `#compdef strata
# zsh completion for strata
# Load with: source <(strata completion zsh)
# or save as _strata in a directory of $fpath

${lookupFunctions(spec)}
_strata_describe() {
  local prefix="$1" line name
  local -a out
  while IFS=$'\\t' read -r name line; do
    if [ -z "$prefix" ]; then
      case "$name" in *" "*) continue ;; esac
      out+=("$name:$line")
    else
      case "$name" in "$prefix "*) ;; *) continue ;; esac
      name="\${name#"$prefix "}"
      case "$name" in *" "*) continue ;; esac
      out+=("$name:$line")
    fi
  done <<'STRATA_COMMANDS'
${described.join("\n")}
STRATA_COMMANDS
  _describe -t commands 'strata command' out
}

_strata() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}"
  _strata_scan "\${(@)words[2,CURRENT-1]}"
  local out
  out="$(_strata_candidates "$cur" "$prev")"
  if [ "$out" = "__files__" ]; then
    _files
  elif [ -n "$(_strata_subcommands "$_strata_path")" ] && [[ "$cur" != -* ]]; then
    _strata_describe "$_strata_path"
  else
    compadd -- \${=out}
  fi
}

if [ "$funcstack[1]" = "_strata" ]; then
  _strata "$@"
else
  compdef _strata strata
fi
`;
}

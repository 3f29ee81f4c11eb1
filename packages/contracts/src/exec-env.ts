/*
 * Which environment variables a SyntheticTest may hand to an `exec` program. Whoever can write a
 * spec is partly trusted at most: the operator allow-lists programs (the agent's EXEC_ALLOW), and
 * those programs must behave as the operator tested them. Variables that change how a program is
 * loaded, which programs a script finds, or what an interpreter runs before the script (bash's
 * BASH_ENV, the loader's LD_PRELOAD, NODE_OPTIONS, PYTHONSTARTUP, PERL5OPT, ...) would turn any
 * allow-listed script into a way to run anything, so no spec and no agent setting may set them.
 * Every other name still needs the operator's word (the agent's EXEC_ENV_ALLOW; none by default).
 */

/** Names that can never be set, exactly. */
const FORBIDDEN_NAMES = new Set([
  // shells (bash, dash, zsh, ksh) read or obey these before or while running a script
  'BASH_ENV',
  'ENV',
  'SHELLOPTS',
  'BASHOPTS',
  'PS1',
  'PS2',
  'PS3',
  'PS4',
  'PROMPT_COMMAND',
  'IFS',
  'CDPATH',
  'GLOBIGNORE',
  'HISTFILE',
  'EXECIGNORE',
  'ZDOTDIR',
  'FPATH',
  'KSH_ENV',
  'BASH_XTRACEFD',
  'BASH_LOADABLES_PATH',
  'BASH_COMPAT',
  'POSIXLY_CORRECT',
  // which programs and libraries are found
  'PATH',
  'GCONV_PATH',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'RES_OPTIONS',
  'NLSPATH',
  'LOCPATH',
  'MALLOC_CHECK_',
  'HOME',
  'SHELL',
  // interpreters' start-up hooks and module paths
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'PERLLIB',
  'PERLIO',
  'RUBYLIB',
  'RUBYOPT',
  'JAVA_TOOL_OPTIONS',
  'JDK_JAVA_OPTIONS',
  '_JAVA_OPTIONS',
  'CLASSPATH',
  'LUA_PATH',
  'LUA_CPATH',
  'LUA_INIT',
  'TCLLIBPATH',
  'PHPRC',
  'PHP_INI_SCAN_DIR',
  'GIT_EXEC_PATH',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_CONFIG',
  'GIT_CONFIG_GLOBAL',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'OPENSSL_CONF',
  'OPENSSL_ENGINES',
]);

/** Prefixes whose every name is forbidden. */
const FORBIDDEN_PREFIXES = [
  'LD_', // the dynamic loader: LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...
  'DYLD_',
  'BASH_FUNC_', // exported shell functions
  'PYTHON', // PYTHONSTARTUP, PYTHONPATH, PYTHONHOME, PYTHONINSPECT, ...
  'PERL5', // PERL5OPT, PERL5LIB, PERL5DB
  'PERL_',
  'RUBY',
  'NODE_',
  'GEM_',
  'BUNDLE_',
  'GLIBC_',
  'MALLOC_',
  'GCONV_',
  'GIT_',
  'NPM_CONFIG_',
  'npm_config_',
  'JAVA_',
  'LUA_',
  'SSH_', // SSH_ASKPASS runs a program
] as const;

/** Why a spec may never set this variable for an exec program, or undefined when it may (with the operator's leave). */
export function forbiddenExecEnv(name: string): string | undefined {
  const upper = name.toUpperCase();
  if (FORBIDDEN_NAMES.has(name) || FORBIDDEN_NAMES.has(upper)) {
    return `${name} changes how a program is found, loaded or interpreted and can never be set`;
  }
  const prefix = FORBIDDEN_PREFIXES.find((p) => upper.startsWith(p.toUpperCase()));
  if (prefix) return `${name} (${prefix}*) changes how a program is loaded or interpreted and can never be set`;
  return undefined;
}

/** The environment every exec program starts from; a spec adds only names the operator allowed. */
export const EXEC_BASE_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
});

/**
 * The problems with an exec config's `env`, each with the key path it is at (`config.env.NAME`),
 * for a config already in object form. Nothing is reported for anything that is not a record.
 */
export function execEnvIssues(config: unknown): { path: string[]; message: string }[] {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return [];
  const env = (config as { env?: unknown }).env;
  if (!env || typeof env !== 'object' || Array.isArray(env)) return [];
  return Object.keys(env).flatMap((name) => {
    const why = forbiddenExecEnv(name);
    return why ? [{ path: ['config', 'env', name], message: why }] : [];
  });
}

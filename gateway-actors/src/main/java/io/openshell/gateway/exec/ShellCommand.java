package io.openshell.gateway.exec;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns an ExecSandbox request into the one command line the sandbox's {@code bash -lc} runs
 * (upstream's assembly): env pairs sorted by key as {@code K=<escaped v>}, then the escaped args,
 * joined by spaces; a workdir becomes a {@code cd <escaped> && } prefix.
 */
public final class ShellCommand {
  private ShellCommand() {}

  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9./_-]+");

  /** POSIX shell quoting: {@code ''} for empty, safe words as they are, else single quotes. */
  public static String escape(String value) {
    if (value.isEmpty()) return "''";
    if (SAFE.matcher(value).matches()) return value;
    return "'" + value.replace("'", "'\"'\"'") + "'";
  }

  public static String assemble(List<String> args, Map<String, String> environment, String workdir) {
    StringBuilder command = new StringBuilder();
    if (workdir != null && !workdir.isEmpty()) command.append("cd ").append(escape(workdir)).append(" && ");
    boolean first = true;
    for (Map.Entry<String, String> env : new TreeMap<>(environment).entrySet()) {
      if (!first) command.append(' ');
      command.append(env.getKey()).append('=').append(escape(env.getValue()));
      first = false;
    }
    for (String arg : args) {
      if (!first) command.append(' ');
      command.append(escape(arg));
      first = false;
    }
    return command.toString();
  }
}

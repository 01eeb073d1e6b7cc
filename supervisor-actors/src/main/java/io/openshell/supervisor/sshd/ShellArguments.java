package io.openshell.supervisor.sshd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The argv that runs an exec command in a login shell. Linux refuses any single argument longer than
 * 128 KiB (MAX_ARG_STRLEN) with E2BIG, while the gateway accepts commands up to 256 KiB (upstream's
 * limit): a long command travels in pieces as positional parameters, which the shell joins and evals.
 */
final class ShellArguments {
  /** Comfortably under MAX_ARG_STRLEN (32 pages = 131072 bytes, including the terminating NUL). */
  static final int MAX_ARGUMENT_BYTES = 100 * 1024;
  /** Joins $1..$n without separators (printf -v keeps trailing newlines), clears them, runs the result. */
  static final String JOIN_AND_EVAL = "printf -v __openshell_command %s \"$@\"; set --; eval \"$__openshell_command\"";

  private ShellArguments() {}

  static List<String> forCommand(String shell, String command) {
    if (command == null) return List.of(shell, "-l");
    if (command.getBytes(StandardCharsets.UTF_8).length <= MAX_ARGUMENT_BYTES) return List.of(shell, "-lc", command);
    List<String> argv = new ArrayList<>(List.of(shell, "-lc", JOIN_AND_EVAL, shell));
    argv.addAll(pieces(command));
    return argv;
  }

  /** Pieces of at most {@link #MAX_ARGUMENT_BYTES} UTF-8 bytes each, never splitting a character. */
  static List<String> pieces(String command) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    int bytes = 0;
    for (int i = 0; i < command.length(); ) {
      int codePoint = command.codePointAt(i);
      int width = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + width > MAX_ARGUMENT_BYTES) {
        pieces.add(command.substring(start, i));
        start = i;
        bytes = 0;
      }
      bytes += width;
      i += Character.charCount(codePoint);
    }
    pieces.add(command.substring(start));
    return pieces;
  }
}

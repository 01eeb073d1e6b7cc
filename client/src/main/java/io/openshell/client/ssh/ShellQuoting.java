package io.openshell.client.ssh;

import java.util.List;
import java.util.stream.Collectors;

/**
 * POSIX shell quoting, the rule the gateway's exec uses (UPSTREAM.md §B 46): {@code ''} for empty, safe
 * words ({@code [A-Za-z0-9./_-]}) unchanged, anything else single-quoted with {@code '} as {@code '"'"'}.
 * Used for the remote command ssh hands to the sandbox's shell and for ProxyCommand, which ssh runs with
 * the user's shell.
 */
public final class ShellQuoting {
  private ShellQuoting() {}

  public static String quote(String word) {
    if (word.indexOf('\0') >= 0) throw new IllegalArgumentException("a shell word cannot contain NUL");
    if (word.isEmpty()) return "''";
    boolean safe = true;
    for (int i = 0; i < word.length() && safe; i++) {
      char c = word.charAt(i);
      safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '_' || c == '-';
    }
    return safe ? word : "'" + word.replace("'", "'\"'\"'") + "'";
  }

  /** Each word quoted, joined by spaces: one command line that the shell splits back into exactly these words. */
  public static String join(List<String> words) {
    return words.stream().map(ShellQuoting::quote).collect(Collectors.joining(" "));
  }
}

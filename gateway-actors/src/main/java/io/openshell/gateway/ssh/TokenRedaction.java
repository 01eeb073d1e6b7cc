package io.openshell.gateway.ssh;

/** How an SSH session token may appear in a log line: {@code ****} and its last four characters. */
public final class TokenRedaction {
  private TokenRedaction() {}

  public static String redact(String token) {
    if (token == null || token.length() <= 4) return "****";
    return "****" + token.substring(token.length() - 4);
  }
}

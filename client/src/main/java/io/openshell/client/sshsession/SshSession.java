package io.openshell.client.sshsession;

import io.openshell.client.connection.CliException;

/**
 * A minted SSH session: where to send {@code CONNECT} and the token that admits it. Every instance has
 * passed the charset contract (UPSTREAM.md §B 43), because its fields end up in an HTTP request head, in a
 * cache file and, for token mode, in a shell command: a value outside the contract is refused, never escaped.
 * Build one only through {@link #validated}.
 */
public final class SshSession {

  private static final int MAX_SANDBOX_ID = 128;
  private static final int MAX_TOKEN = 4096;
  private static final int MAX_HOST = 253;

  /** A session is reused until this long before it expires, so a connection never starts on a dying token. */
  public static final long EXPIRY_MARGIN_MS = 60_000;

  private final String sandboxId;
  private final String token;
  private final String host;
  private final int port;
  private final String scheme;
  private final String connectPath;
  private final long expiresAtMs;

  private SshSession(String sandboxId, String token, String host, int port, String scheme, String connectPath, long expiresAtMs) {
    this.sandboxId = sandboxId;
    this.token = token;
    this.host = host;
    this.port = port;
    this.scheme = scheme;
    this.connectPath = connectPath;
    this.expiresAtMs = expiresAtMs;
  }

  /**
   * Checks every field against the contract; {@code origin} names where the values came from for the error
   * ("the gateway's CreateSshSession response", "the command line"). The token never appears in a message.
   */
  public static SshSession validated(String origin, String sandboxId, String token, String host, long port, String scheme,
      String connectPath, long expiresAtMs) {
    String problem = problem(sandboxId, token, host, port, scheme, connectPath);
    if (problem != null) throw new CliException("refusing " + origin + ": " + problem);
    return new SshSession(sandboxId, token, host, (int) port, scheme, connectPath, expiresAtMs);
  }

  public String sandboxId() {
    return sandboxId;
  }

  /** The secret itself: for the CONNECT header and the 0600 cache file only; show {@link #redactedToken()}. */
  public String token() {
    return token;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public String scheme() {
    return scheme;
  }

  public String connectPath() {
    return connectPath;
  }

  public long expiresAtMs() {
    return expiresAtMs;
  }

  /** The first contract violation, or null. */
  static String problem(String sandboxId, String token, String host, long port, String scheme, String connectPath) {
    if (sandboxId == null || sandboxId.isEmpty() || sandboxId.length() > MAX_SANDBOX_ID || !all(sandboxId, "._-")) {
      return "sandbox_id " + shown(sandboxId) + " is not 1 to " + MAX_SANDBOX_ID + " characters of [A-Za-z0-9._-]";
    }
    if (token == null || token.isEmpty() || token.length() > MAX_TOKEN || !all(token, "._~+/=-")) {
      return "token is not 1 to " + MAX_TOKEN + " characters of [A-Za-z0-9._~+/=-]";
    }
    if (host == null || host.isEmpty() || host.length() > MAX_HOST || !all(host, ".-:[]")) {
      return "gateway_host " + shown(host) + " is not 1 to " + MAX_HOST + " characters of letters, digits and .-:[]";
    }
    if (port < 1 || port > 65535) return "gateway_port " + port + " is not in 1..65535";
    if (!"http".equals(scheme) && !"https".equals(scheme)) return "gateway_scheme " + shown(scheme) + " is not http or https";
    if (connectPath == null || !connectPath.startsWith("/") || !pathCharacters(connectPath)) {
      return "connect_path " + shown(connectPath) + " is not an absolute path of RFC 3986 path characters";
    }
    return null;
  }

  /** {@code host:port} for the Host header, IPv6 literals bracketed. */
  public String authority() {
    boolean bareIpv6 = host.indexOf(':') >= 0 && !host.startsWith("[");
    return (bareIpv6 ? "[" + host + "]" : host) + ":" + port;
  }

  /** The host to open a socket to (an IPv6 literal without its brackets). */
  public String socketHost() {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** False from {@link #EXPIRY_MARGIN_MS} before expiry; a session without expiry ({@code 0}) stays usable. */
  public boolean usableAt(long nowMs) {
    return expiresAtMs == 0 || nowMs < expiresAtMs - EXPIRY_MARGIN_MS;
  }

  /** The only form in which a token may be shown: {@code ****} and its last four characters. */
  public String redactedToken() {
    return redact(token);
  }

  public static String redact(String token) {
    return "****" + (token.length() <= 4 ? "" : token.substring(token.length() - 4));
  }

  @Override
  public String toString() {
    return "SshSession[sandboxId=" + sandboxId + ", token=" + redactedToken() + ", gateway=" + scheme + "://" + authority()
        + connectPath + ", expiresAtMs=" + expiresAtMs + "]";
  }

  private static boolean all(String value, String punctuation) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!asciiAlphanumeric(c) && punctuation.indexOf(c) < 0) return false;
    }
    return true;
  }

  /** RFC 3986 {@code pchar} and {@code /}: unreserved, sub-delims, {@code :@} and well-formed {@code %XX}. */
  private static boolean pathCharacters(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%') {
        if (i + 2 >= path.length() || !hex(path.charAt(i + 1)) || !hex(path.charAt(i + 2))) return false;
        i += 2;
      } else if (!asciiAlphanumeric(c) && "-._~!$&'()*+,;=:@/".indexOf(c) < 0) {
        return false;
      }
    }
    return true;
  }

  private static boolean asciiAlphanumeric(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static boolean hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** A value for an error message: quoted, control characters visible, long values cut. */
  private static String shown(String value) {
    if (value == null) return "(missing)";
    StringBuilder shown = new StringBuilder("'");
    for (int i = 0; i < value.length() && i < 80; i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c == 0x7f) shown.append(String.format("\\x%02x", (int) c));
      else shown.append(c);
    }
    return shown.append(value.length() > 80 ? "…'" : "'").toString();
  }
}

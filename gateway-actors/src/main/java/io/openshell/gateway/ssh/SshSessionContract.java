package io.openshell.gateway.ssh;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The charset contract of a CreateSshSession response (UPSTREAM §B 43). Clients build an ssh
 * ProxyCommand from these fields, so anything outside the contract could smuggle shell syntax or a
 * second request into it: clients must reject a response that breaks it, and the gateway checks its
 * own answers against it before sending them.
 *
 * <p>Plain Java with no dependencies, so the CLI can carry an identical copy.
 */
public final class SshSessionContract {
  private SshSessionContract() {}

  static final int MAX_SANDBOX_ID = 128;
  static final int MAX_TOKEN = 4096;
  static final int MAX_HOST = 253;

  private static final Pattern SANDBOX_ID = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_SANDBOX_ID + "}");
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]{1," + MAX_TOKEN + "}");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:\\[\\]-]{1," + MAX_HOST + "}");
  // RFC 3986 path: "/" then segments of pchar = unreserved / pct-encoded / sub-delims / ":" / "@".
  private static final Pattern CONNECT_PATH =
      Pattern.compile("/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*");

  /** Every field that breaks the contract, each as "field: why"; empty when the response is acceptable. */
  public static List<String> violations(String sandboxId, String token, String host, long port, String scheme,
      String connectPath) {
    List<String> problems = new ArrayList<>();
    if (sandboxId == null || !SANDBOX_ID.matcher(sandboxId).matches()) {
      problems.add("sandbox_id: must be 1-" + MAX_SANDBOX_ID + " of [A-Za-z0-9._-]");
    }
    if (token == null || !TOKEN.matcher(token).matches()) {
      problems.add("token: must be 1-" + MAX_TOKEN + " of [A-Za-z0-9._~+/=-]");
    }
    if (host == null || !HOST.matcher(host).matches()) {
      problems.add("gateway_host: must be 1-" + MAX_HOST + " letters, digits or . - : [ ]");
    }
    if (port < 1 || port > 65535) {
      problems.add("gateway_port: must be 1-65535");
    }
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      problems.add("gateway_scheme: must be exactly http or https");
    }
    if (connectPath == null || !CONNECT_PATH.matcher(connectPath).matches()) {
      problems.add("connect_path: must start with / and hold only RFC 3986 path characters"
          + " (no ? # whitespace ` or \\)");
    }
    return problems;
  }

  /** Only the connect path: the gateway checks its configured path once at start. */
  public static boolean isValidConnectPath(String connectPath) {
    return connectPath != null && CONNECT_PATH.matcher(connectPath).matches();
  }
}

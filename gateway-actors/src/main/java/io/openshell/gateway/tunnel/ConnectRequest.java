package io.openshell.gateway.tunnel;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.apache.pekko.util.ByteString;

/**
 * The one request a tunnel connection may send: {@code CONNECT <connect-path> HTTP/1.1} with
 * {@code x-sandbox-id} and {@code x-sandbox-token}. Parsing is a pure function of the head bytes, so
 * every refusal code is unit-tested without a socket.
 */
public record ConnectRequest(String sandboxId, String token) {
  static final String SANDBOX_ID = "x-sandbox-id";
  static final String SANDBOX_TOKEN = "x-sandbox-token";

  @Override
  public String toString() {
    return "ConnectRequest[sandboxId=" + sandboxId + ", token=" + io.openshell.gateway.ssh.TokenRedaction.redact(token) + "]";
  }

  /**
   * Parses a request head (everything up to and including the blank line). Throws
   * {@link TunnelRefusal} with the status the client must see.
   */
  public static ConnectRequest parse(ByteString head, String connectPath) {
    // Latin-1 maps every byte to one char, so a non-ASCII byte stays visible as a char above 0x7f.
    String text = head.decodeString(StandardCharsets.ISO_8859_1);
    if (text.endsWith("\r\n\r\n")) text = text.substring(0, text.length() - 4);
    String[] lines = text.split("\r\n", -1);
    String[] requestLine = lines[0].split(" ", -1);
    if (requestLine.length != 3 || !printableAscii(lines[0])) {
      throw new TunnelRefusal(400, "malformed request line; send: CONNECT " + connectPath + " HTTP/1.1");
    }
    String method = requestLine[0];
    String target = requestLine[1];
    String version = requestLine[2];
    if (!method.equals("CONNECT")) {
      throw new TunnelRefusal(405, "only CONNECT is served here; send: CONNECT " + connectPath + " HTTP/1.1");
    }
    if (!version.startsWith("HTTP/")) {
      throw new TunnelRefusal(400, "malformed request line; send: CONNECT " + connectPath + " HTTP/1.1");
    }
    if (!version.equals("HTTP/1.1")) {
      throw new TunnelRefusal(505, "only HTTP/1.1 is served here; send: CONNECT " + connectPath + " HTTP/1.1");
    }
    if (!target.equals(connectPath)) {
      throw new TunnelRefusal(404, "no tunnel at this path; send: CONNECT " + connectPath + " HTTP/1.1");
    }

    String sandboxId = null;
    String token = null;
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0 || !headerName(line.substring(0, colon))) {
        throw new TunnelRefusal(400, "malformed header line; headers are 'name: value'");
      }
      String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).strip();
      if (name.equals(SANDBOX_ID)) {
        if (sandboxId != null) throw new TunnelRefusal(400, "x-sandbox-id is given twice; send it once");
        sandboxId = value;
      } else if (name.equals(SANDBOX_TOKEN)) {
        if (token != null) throw new TunnelRefusal(400, "x-sandbox-token is given twice; send it once");
        token = value;
      }
    }
    return checked(sandboxId, token);
  }

  /** The header checks shared with the WebSocket route (UPSTREAM §B 35): missing 401, non-ASCII 400, empty 400. */
  public static ConnectRequest checked(String sandboxId, String token) {
    if (sandboxId == null || token == null) {
      throw new TunnelRefusal(401, "x-sandbox-id and x-sandbox-token headers are required;"
          + " get them from CreateSshSession (openshell sandbox connect)");
    }
    if (!printableAscii(sandboxId) || !printableAscii(token)) {
      throw new TunnelRefusal(400, "x-sandbox-id and x-sandbox-token must be printable ASCII");
    }
    if (sandboxId.isEmpty() || token.isEmpty()) {
      throw new TunnelRefusal(400, "x-sandbox-id and x-sandbox-token must not be empty");
    }
    return new ConnectRequest(sandboxId, token);
  }

  private static boolean printableAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
  }

  /** RFC 9110 token characters. */
  private static boolean headerName(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) return false;
    }
    return true;
  }
}

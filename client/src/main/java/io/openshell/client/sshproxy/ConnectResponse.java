package io.openshell.client.sshproxy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The gateway's answer to {@code CONNECT}: its status and whatever bytes arrived after the head. The SSH
 * server speaks first, so its banner can share a TCP segment with {@code 200}; those bytes belong to ssh and
 * must reach stdout before anything else.
 */
record ConnectResponse(int status, String statusLine, byte[] afterHead) {

  /** Heads larger than this are refused: the gateway's answer is one status line and a few headers. */
  static final int MAX_HEAD_BYTES = 8192;

  /** The gateway's answer was not an HTTP response head within {@link #MAX_HEAD_BYTES}. */
  static final class Malformed extends IOException {
    Malformed(String message) {
      super(message);
    }
  }

  /** Reads until the blank line ending the head (CRLF CRLF, or bare LF LF), at most {@code limit} bytes of head. */
  static ConnectResponse read(InputStream in, int limit) throws IOException {
    byte[] buffer = new byte[limit];
    int filled = 0;
    while (true) {
      int headEnd = headEnd(buffer, filled);
      if (headEnd >= 0) {
        return parse(new String(buffer, 0, headEnd, StandardCharsets.ISO_8859_1), Arrays.copyOfRange(buffer, headEnd, filled));
      }
      if (filled == limit) throw new Malformed("the gateway's CONNECT response head exceeds " + limit + " bytes");
      int read = in.read(buffer, filled, limit - filled);
      if (read < 0) {
        throw new Malformed(filled == 0 ? "the gateway closed the connection without answering CONNECT"
            : "the gateway closed the connection in the middle of its CONNECT response");
      }
      filled += read;
    }
  }

  /** Index just past the blank line, or -1. */
  private static int headEnd(byte[] bytes, int length) {
    for (int i = 0; i + 1 < length; i++) {
      if (bytes[i] == '\n' && bytes[i + 1] == '\n') return i + 2;
      if (i + 3 < length && bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n') {
        return i + 4;
      }
    }
    return -1;
  }

  private static ConnectResponse parse(String head, byte[] afterHead) throws Malformed {
    int lineEnd = head.indexOf('\n');
    String statusLine = (lineEnd < 0 ? head : head.substring(0, lineEnd)).strip();
    // HTTP/1.x SP 3DIGIT [SP reason]
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.") || parts[1].length() != 3 || !digits(parts[1])) {
      throw new Malformed("the gateway's CONNECT response is not HTTP: '" + printable(statusLine) + "'");
    }
    return new ConnectResponse(Integer.parseInt(parts[1]), statusLine, afterHead);
  }

  private static boolean digits(String value) {
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') return false;
    }
    return true;
  }

  private static String printable(String value) {
    StringBuilder shown = new StringBuilder();
    for (int i = 0; i < value.length() && i < 80; i++) {
      char c = value.charAt(i);
      shown.append(c < 0x20 || c >= 0x7f ? '?' : c);
    }
    return shown.toString();
  }
}

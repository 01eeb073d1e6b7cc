package io.openshell.gateway.tunnel;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * Why a tunnel request is turned away: the HTTP status and a one-line message telling the client
 * what to do. Thrown through the admission's completion stages; the transports turn it into a small
 * HTTP/1.1 response and close.
 */
public final class TunnelRefusal extends RuntimeException {
  private final int status;

  public TunnelRefusal(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** The whole response: status line, headers, the message as body; the connection closes after it. */
  public ByteString toHttp() {
    byte[] body = (getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\n"
        + (status == 405 ? "Allow: CONNECT\r\n" : "")
        + "Content-Type: text/plain; charset=utf-8\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + "Connection: close\r\n\r\n";
    return ByteString.fromString(head, StandardCharsets.US_ASCII).concat(ByteString.fromArray(body));
  }

  static String reason(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 401 -> "Unauthorized";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      case 408 -> "Request Timeout";
      case 412 -> "Precondition Failed";
      case 429 -> "Too Many Requests";
      case 431 -> "Request Header Fields Too Large";
      case 502 -> "Bad Gateway";
      case 503 -> "Service Unavailable";
      case 505 -> "HTTP Version Not Supported";
      default -> "Error";
    };
  }
}

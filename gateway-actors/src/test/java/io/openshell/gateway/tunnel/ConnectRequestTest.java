package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The request head rules of /connect/ssh (UPSTREAM §B 35), one status per way to get it wrong. */
class ConnectRequestTest {
  private static final String PATH = "/connect/ssh";

  private static ConnectRequest parse(String head) {
    return ConnectRequest.parse(ByteString.fromString(head, StandardCharsets.ISO_8859_1), PATH);
  }

  private static int status(String head) {
    return assertThrows(TunnelRefusal.class, () -> parse(head)).status();
  }

  @Test
  void aWellFormedConnectGivesTheSandboxAndToken() {
    ConnectRequest request = parse("CONNECT /connect/ssh HTTP/1.1\r\nHost: gw:2222\r\nx-sandbox-id: sb-1\r\n"
        + "x-sandbox-token:  tok-1 \r\n\r\n");
    assertEquals("sb-1", request.sandboxId());
    assertEquals("tok-1", request.token());
  }

  @Test
  void headerNamesAreCaseInsensitive() {
    ConnectRequest request = parse("CONNECT /connect/ssh HTTP/1.1\r\nX-Sandbox-Id: sb-1\r\nX-SANDBOX-TOKEN: tok-1\r\n\r\n");
    assertEquals("sb-1", request.sandboxId());
    assertEquals("tok-1", request.token());
  }

  @Test
  void aMethodOtherThanConnectIs405() {
    assertEquals(405, status("GET /connect/ssh HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(405, status("connect /connect/ssh HTTP/1.1\r\n\r\n"));
  }

  @Test
  void aMissingIdOrTokenIs401() {
    assertEquals(401, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(401, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: a\r\n\r\n"));
    assertEquals(401, status("CONNECT /connect/ssh HTTP/1.1\r\n\r\n"));
  }

  @Test
  void aNonAsciiIdOrTokenIs400() {
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: s\u00e9\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-token: t\u00ff\r\n\r\n"));
  }

  @Test
  void anEmptyIdOrTokenIs400() {
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id:\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-token:   \r\n\r\n"));
  }

  @Test
  void aRepeatedIdOrTokenIs400() {
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-id: b\r\nx-sandbox-token: t\r\n\r\n"));
  }

  @Test
  void anotherPathIs404AndAnotherVersionIs505() {
    assertEquals(404, status("CONNECT gateway:2222 HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(404, status("CONNECT /connect/ssh/ HTTP/1.1\r\nx-sandbox-id: a\r\nx-sandbox-token: b\r\n\r\n"));
    assertEquals(505, status("CONNECT /connect/ssh HTTP/1.0\r\nx-sandbox-id: a\r\nx-sandbox-token: b\r\n\r\n"));
  }

  @Test
  void malformedHeadsAre400() {
    assertEquals(400, status("CONNECT  /connect/ssh HTTP/1.1\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh FTP/1.1\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\nno colon here\r\n\r\n"));
    assertEquals(400, status("CONNECT /connect/ssh HTTP/1.1\r\n folded: header\r\n\r\n"));
    assertEquals(400, status("CONNECT /c\u00f6nnect/ssh HTTP/1.1\r\n\r\n"));
  }

  @Test
  void errorResponsesAreSmallHttpResponsesWithOneLineSayingWhatToDo() {
    String response = new TunnelRefusal(429, "too many; close one").toHttp().utf8String();
    assertTrue(response.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), response);
    assertTrue(response.contains("Content-Length: 20\r\n"), response);
    assertTrue(response.contains("Connection: close\r\n"), response);
    assertTrue(response.endsWith("\r\n\r\ntoo many; close one\n"), response);
    assertTrue(new TunnelRefusal(405, "x").toHttp().utf8String().contains("Allow: CONNECT\r\n"));
  }
}

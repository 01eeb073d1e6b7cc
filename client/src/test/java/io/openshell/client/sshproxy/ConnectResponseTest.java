package io.openshell.client.sshproxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.sshsession.SshSession;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class ConnectResponseTest {

  /** Hands out at most {@code chunk} bytes per read, as a socket may. */
  private static InputStream trickling(String data, int chunk) {
    return new ByteArrayInputStream(data.getBytes(US_ASCII)) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, chunk));
      }
    };
  }

  @Test
  void theStatusComesFromTheStatusLine() throws Exception {
    ConnectResponse ok = ConnectResponse.read(trickling("HTTP/1.1 200 Connection Established\r\n\r\n", 1000), 8192);
    assertEquals(200, ok.status());
    assertEquals("HTTP/1.1 200 Connection Established", ok.statusLine());
    assertEquals(0, ok.afterHead().length);
    assertEquals(412, ConnectResponse.read(trickling("HTTP/1.1 412 Precondition Failed\r\ncontent-length: 0\r\n\r\n", 3), 8192).status());
    assertEquals(401, ConnectResponse.read(trickling("HTTP/1.0 401\n\n", 1), 8192).status());
  }

  @Test
  void bytesAfterTheHeadArePreservedWhateverTheReadSizes() throws Exception {
    String banner = "SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001binary";
    for (int chunk : new int[] {1, 7, 64, 8192}) {
      ConnectResponse response = ConnectResponse.read(trickling("HTTP/1.1 200 OK\r\nx-a: b\r\n\r\n" + banner, chunk), 8192);
      assertEquals(200, response.status());
      // With small reads the head ends before the banner arrives; with one big read it all comes at once.
      String after = new String(response.afterHead(), US_ASCII);
      assertTrue(banner.startsWith(after), "chunk " + chunk + ": " + after);
    }
    ConnectResponse whole = ConnectResponse.read(trickling("HTTP/1.1 200 OK\r\n\r\n" + banner, 8192), 8192);
    assertEquals(banner, new String(whole.afterHead(), US_ASCII));
  }

  @Test
  void anOversizedHeadIsRefused() {
    String head = "HTTP/1.1 200 OK\r\n" + "x-padding: " + "a".repeat(9000) + "\r\n\r\n";
    var refused = assertThrows(ConnectResponse.Malformed.class, () -> ConnectResponse.read(trickling(head, 512), 8192));
    assertTrue(refused.getMessage().contains("exceeds 8192 bytes"), refused.getMessage());
  }

  @Test
  void anAnswerThatIsNotHttpOrEndsEarlyIsRefused() {
    assertThrows(ConnectResponse.Malformed.class, () -> ConnectResponse.read(trickling("SSH-2.0-x\r\n\r\n", 100), 8192));
    assertThrows(ConnectResponse.Malformed.class, () -> ConnectResponse.read(trickling("HTTP/1.1 20 OK\r\n\r\n", 100), 8192));
    assertThrows(ConnectResponse.Malformed.class, () -> ConnectResponse.read(trickling("HTTP/1.1 200 OK\r\n", 100), 8192));
    var silent = assertThrows(ConnectResponse.Malformed.class, () -> ConnectResponse.read(trickling("", 100), 8192));
    assertTrue(silent.getMessage().contains("without answering"));
  }

  @Test
  void theRequestIsAConnectWithHostSandboxAndTokenHeaders() {
    SshSession session = SshSession.validated("test", "sb-1", "tok.en", "127.0.0.1", 9000, "http", "/connect/ssh", 0);
    assertEquals("CONNECT /connect/ssh HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nX-Sandbox-Id: sb-1\r\nX-Sandbox-Token: tok.en\r\n\r\n",
        new String(Tunnel.request(session), US_ASCII));
  }
}

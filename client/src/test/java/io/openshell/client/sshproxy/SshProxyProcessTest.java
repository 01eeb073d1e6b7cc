package io.openshell.client.sshproxy;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.ssh.ProxyLauncher;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The proxy as ssh runs it: its own JVM with the launcher's lean flags and a class path of this module's
 * classes alone. Token mode working there proves picocli, Pekko and gRPC stay off its path; the time to
 * the first CONNECT byte is the startup figure reported in docs/cli.md.
 */
class SshProxyProcessTest {

  @Test
  void theLeanProxyJvmNeedsOnlyTheClientClassesAndReachesTheGatewayQuickly() throws Exception {
    Path classes = Path.of(SshProxyMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    List<Long> millis = new ArrayList<>();
    try (ServerSocket gateway = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      for (int run = 0; run < 5; run++) {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ProxyLauncher.LEAN_JVM_FLAGS);
        command.addAll(List.of("-cp", classes.toString(), ProxyLauncher.MAIN_CLASS,
            "--gateway", "http://127.0.0.1:" + gateway.getLocalPort(), "--sandbox-id", "sb-1", "--token", "tok-1234"));
        long started = System.nanoTime();
        Process proxy = new ProcessBuilder(command).start();
        try (Socket connection = gateway.accept()) {
          InputStream in = connection.getInputStream();
          assertEquals('C', in.read());
          millis.add((System.nanoTime() - started) / 1_000_000);
          byte[] head = new byte[4096];
          int read = in.read(head);
          assertTrue(new String(head, 0, read, US_ASCII).contains("X-Sandbox-Id: sb-1"));
          connection.getOutputStream().write("HTTP/1.1 200 OK\r\n\r\nSSH-2.0-Fake\r\n".getBytes(US_ASCII));
        }
        assertTrue(proxy.waitFor(20, TimeUnit.SECONDS));
        String stderr = new String(proxy.getErrorStream().readAllBytes(), US_ASCII);
        assertEquals(0, proxy.exitValue(), stderr);
        assertEquals("SSH-2.0-Fake\r\n", new String(proxy.getInputStream().readAllBytes(), US_ASCII));
      }
    }
    millis.sort(null);
    System.out.println("ssh-proxy token mode, JVM start to first CONNECT byte (ms, 5 runs sorted): " + millis);
    // A generous bound for a loaded CI machine; the figure itself is printed above (goal: 300 ms).
    assertTrue(millis.get(2) < 3000, "median " + millis.get(2) + " ms");
  }
}

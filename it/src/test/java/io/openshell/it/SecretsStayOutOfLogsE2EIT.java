package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.protocol.v1.CreateSshSessionResponse;
import io.openshell.protocol.v1.ExecSandboxRequest;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxSpec;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue #8: a real gateway process and a real supervisor (process driver, bubblewrap when present, log
 * level debug) go through the flows that handle secrets — the supervisor's credential on Hello,
 * relays and log pushes, an SSH session token on the CONNECT tunnel (accepted, wrong, revoked) and an
 * exec — and then neither the full token nor the full credential appears in the gateway's log, the
 * supervisor's log or the sandbox logs, and the credential is nowhere a sandbox command can look.
 */
class SecretsStayOutOfLogsE2EIT {

  @Test
  void noFullTokenOrSandboxCredentialReachesAnyLogOrTheSandboxsCommands() throws Exception {
    Path state = Files.createTempDirectory("openshell-secrets-e2e");
    Path db = state.resolve("gateway.db");
    String gatewayLog;
    String id;
    String token;
    String credential;
    try (GatewayProcess gateway = GatewayProcess.start(state, "sqlite:" + db);
        GatewayClient client = new GatewayClient(gateway.port)) {
      id = client.create("secrets", SandboxSpec.newBuilder().setLogLevel("debug").build()).getId();
      Awaits.require(GatewayProcess.startupPatience(), "sandbox READY",
          () -> client.get("secrets").getPhase() == SandboxPhase.SANDBOX_PHASE_READY);
      credential = credentialFromJournal(db, id);

      CreateSshSessionResponse session = client.sshSession(id);
      token = session.getToken();
      assertEquals("HTTP/1.1 200", connect(session, id, token), "the token opens the tunnel to the sandbox's SSH daemon");
      assertEquals("HTTP/1.1 401", connect(session, id, token.substring(0, token.length() - 1) + "0"));
      assertTrue(client.revokeSshSession(token));
      assertEquals("HTTP/1.1 401", connect(session, id, token), "a revoked token opens nothing");

      GatewayClient.ExecOutcome env = client.exec(ExecSandboxRequest.newBuilder().setSandboxId(id).addAllCommand(List.of("sh", "-c",
          "env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do tr '\\0' '\\n' < $f; done 2>/dev/null; echo done"))
          .build(), Duration.ofSeconds(120));
      assertNull(env.failure(), () -> String.valueOf(env.failure()));
      assertEquals(0, env.exitCode(), env.stderr());
      assertTrue(env.stdout().contains("OPENSHELL_SANDBOX_CREDENTIAL_FILE=-"), "the supervisor was told to read stdin");
      assertTrue(env.stdout().endsWith("done\n"), env.stdout());
      assertFalse(env.stdout().contains(credential), "a sandbox command found the credential in an environment or argv");

      String sandboxLogs = client.logs(id);
      assertTrue(sandboxLogs.contains("supervisor session connected"), "the sandbox logs hold the gateway's lines about it");
      gatewayLog = gateway.logText();
      assertTrue(gatewayLog.contains("ssh session created sandbox_id=" + id + " token=****" + token.substring(token.length() - 4)),
          "the token's lifecycle is logged, redacted");
      assertFalse(sandboxLogs.contains(credential));
    }
    Path sandboxDir = state.resolve("sandboxes").resolve(id);
    String supervisorLog = Files.readString(sandboxDir.resolve("supervisor.log"));
    try (var files = Files.walk(sandboxDir)) {
      for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        assertFalse(Files.readString(file, StandardCharsets.ISO_8859_1).contains(credential), file + " holds the credential");
      }
    }
    assertTrue(supervisorLog.contains("supervisor session established"), "the supervisor logged its session");
    for (String log : List.of(gatewayLog, supervisorLog)) {
      assertFalse(log.contains(token), "a log holds the full SSH session token");
      assertFalse(log.contains(credential), "a log holds the full sandbox credential");
    }
  }

  /** One CONNECT on the SSH tunnel port; the status line, and for 200 the SSH daemon's banner is read too. */
  private static String connect(CreateSshSessionResponse session, String sandboxId, String token) throws Exception {
    try (Socket socket = new Socket(session.getGatewayHost(), session.getGatewayPort())) {
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      out.write(("CONNECT " + session.getConnectPath() + " HTTP/1.1\r\nHost: gateway\r\nx-sandbox-id: " + sandboxId
          + "\r\nx-sandbox-token: " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      String head = readUntil(in, "\r\n\r\n");
      String status = head.substring(0, head.indexOf("\r\n"));
      String statusCode = status.substring(0, Math.min(status.length(), 12));
      if (statusCode.equals("HTTP/1.1 200")) {
        assertTrue(readUntil(in, "\r\n").startsWith("SSH-2.0-"), "bytes from the sandbox's SSH daemon follow");
      }
      return statusCode;
    }
  }

  private static String readUntil(InputStream in, String end) throws Exception {
    StringBuilder text = new StringBuilder();
    while (!text.toString().endsWith(end)) {
      int b = in.read();
      if (b < 0) break;
      text.append((char) b);
    }
    return text.toString();
  }

  /**
   * The credential is held only by the sandbox's entity (its journal) and the supervisor: read it from
   * the SandboxCreated event's CBOR, where it follows its field name as a 43-byte text string.
   */
  private static String credentialFromJournal(Path db, String sandboxId) throws Exception {
    byte[] field = "supervisorCredential".getBytes(StandardCharsets.US_ASCII);
    try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + db);
        PreparedStatement query = connection.prepareStatement(
            "SELECT event_payload FROM event_journal WHERE persistence_id = ? ORDER BY sequence_number")) {
      query.setString(1, "Sandbox|" + sandboxId);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          byte[] payload = rows.getBytes(1);
          for (int i = 0; i + field.length + 45 <= payload.length; i++) {
            if (!java.util.Arrays.equals(payload, i, i + field.length, field, 0, field.length)) continue;
            int at = i + field.length;
            // CBOR: major type 3 (text), one length byte (0x78), length 43.
            if ((payload[at] & 0xff) == 0x78 && payload[at + 1] == 43) {
              return new String(payload, at + 2, 43, StandardCharsets.US_ASCII);
            }
          }
        }
      }
    }
    throw new AssertionError("no supervisor credential in the journal of sandbox " + sandboxId);
  }
}

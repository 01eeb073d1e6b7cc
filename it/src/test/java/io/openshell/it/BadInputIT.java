package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.InternalMetadata;
import io.grpc.Metadata;
import io.grpc.Status;
import io.openshell.gateway.tunnel.ConnectClient;
import io.openshell.protocol.v1.*;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The bad-input suite: every RPC of {@code openshell.v1.OpenShell}, the HTTP routes, the WebSocket
 * tunnel and the raw CONNECT tunnel, fed wrong first frames, oversized fields and messages, malformed
 * protobuf, invalid UTF-8, non-ASCII headers, slowloris heads, a flood of Hellos from unknown
 * sandboxes and relay claims for channels that are not the caller's. Each case expects the status and
 * message a client should see. One real gateway process (SQLite, process driver) with real supervisor
 * sandboxes takes it all; afterwards it must still run a create → READY → exec round trip, and every
 * sandbox, SSH session and journal row stored before must be unchanged.
 *
 * <p>Cases are counted, not one JUnit test each: a failed case is recorded and the rest still run, and
 * the suite prints {@code BadInputIT: N cases tried, M passed} with every failure listed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputIT {
  private static final int MIB = 1024 * 1024;
  /** Shorter than the default 10 s so the slowloris cases stay quick; the cut is the same code path. */
  private static final Duration HEAD_TIMEOUT = Duration.ofSeconds(3);
  private static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(4);

  private static final CaseTally tally = new CaseTally("BadInputIT");
  private static Path db;
  private static GatewayProcess gateway;
  private static GatewayClient client;
  private static RawGrpc raw;
  private static Sandbox keeper;
  private static Sandbox hijack;
  private static CreateSshSessionResponse keeperSsh;
  private static CreateSshSessionResponse hijackSsh;
  private static Snapshot before;
  private static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void startGatewayWithTwoReadySandboxes() throws Exception {
    Path state = Files.createTempDirectory("openshell-bad-input");
    db = state.resolve("gateway.db");
    gateway = GatewayProcess.start(state, "sqlite:" + db,
        List.of("-Dopenshell.gateway.ssh-tunnel.request-head-timeout=" + HEAD_TIMEOUT.toSeconds() + "s",
            "-Dopenshell.gateway.relay.claim-timeout=" + CLAIM_TIMEOUT.toSeconds() + "s"),
        List.of());
    client = new GatewayClient(gateway.port);
    raw = new RawGrpc(gateway.port);
    keeper = createPatiently("keeper");
    hijack = createPatiently("hijack-target");
    awaitPhase("keeper", SandboxPhase.SANDBOX_PHASE_READY);
    awaitPhase("hijack-target", SandboxPhase.SANDBOX_PHASE_READY);
    keeperSsh = client.sshSession(keeper.getId());
    hijackSsh = client.sshSession(hijack.getId());
    before = Snapshot.take();
  }

  @AfterAll
  static void reportAndStop() throws Exception {
    System.out.println(tally.report());
    if (raw != null) raw.close();
    if (client != null) client.close();
    if (gateway != null) gateway.close();
  }

  /** Runs a group of cases and fails the JUnit test if any of them failed (all are still counted). */
  private static void group(Runnable cases) {
    int failedBefore = tally.failureCount();
    cases.run();
    List<String> failed = tally.failuresSince(failedBefore);
    assertTrue(failed.isEmpty(), () -> failed.size() + " case(s) failed:\n  " + String.join("\n  ", failed)
        + "\n--- gateway log tail ---\n" + tail(gateway.logText(), 6000));
  }

  // --- sandboxes and health ---------------------------------------------------------------------

  @Test
  @Order(1)
  void sandboxCallsRefuseBadRequestsWithTheirStatusAndMessage() {
    group(() -> {
      tally.check("Health with unknown fields is served", () -> {
        RawGrpc.Outcome o = raw.call("Health", unknownFields(HealthRequest.getDefaultInstance()));
        expectOk(o);
        assertEquals(ServiceStatus.SERVICE_STATUS_HEALTHY, HealthResponse.parseFrom(o.messages().get(0)).getStatus());
      });
      tally.check("CreateSandbox without spec", () -> expect(raw.call("CreateSandbox",
          CreateSandboxRequest.newBuilder().setName("no-spec").build().toByteArray()), Status.Code.INVALID_ARGUMENT, "spec is required"));
      for (String bad : List.of("bad name", "-leading-dash", "a".repeat(64), "s\u00e4ndbox", "a\u0000b", "a\nb", "../etc", "name;rm -rf /")) {
        tally.check("CreateSandbox with invalid name " + printable(bad), () -> expect(raw.call("CreateSandbox", create(bad)),
            Status.Code.INVALID_ARGUMENT, "invalid sandbox name"));
      }
      tally.check("CreateSandbox with a taken name", () -> expect(raw.call("CreateSandbox", create("keeper")),
          Status.Code.ALREADY_EXISTS, "sandbox 'keeper' already exists"));
      tally.check("CreateSandbox with invalid UTF-8 in name", () -> expect(raw.call("CreateSandbox",
          concat(new byte[] {0x0a, 0x00}, invalidUtf8Field(2))), Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
      tally.check("CreateSandbox with unknown fields still validates the name", () -> expect(raw.call("CreateSandbox",
          unknownFields(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName("bad name").build())),
          Status.Code.INVALID_ARGUMENT, "invalid sandbox name"));
      tally.check("CreateSandbox with the other sandbox's taken name", () -> expect(
          raw.call("CreateSandbox", create("hijack-target")), Status.Code.ALREADY_EXISTS, "already exists"));

      tally.check("GetSandbox with empty name", () -> expect(raw.call("GetSandbox", get("")), Status.Code.INVALID_ARGUMENT, "name is required"));
      tally.check("GetSandbox of a missing sandbox", () -> expect(raw.call("GetSandbox", get("nope-missing")),
          Status.Code.NOT_FOUND, "sandbox 'nope-missing' not found"));
      for (String bad : List.of("../etc/passwd", "a\nb", "s\u00e4ndbox", "a\u0000b", " keeper")) {
        tally.check("GetSandbox with invalid name " + printable(bad), () -> expect(raw.call("GetSandbox", get(bad)),
            Status.Code.INVALID_ARGUMENT, "invalid sandbox name"));
      }
      tally.check("GetSandbox with invalid UTF-8 in name", () -> expect(raw.call("GetSandbox", invalidUtf8Field(1)),
          Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
      tally.check("GetSandbox with unknown fields is served", () -> {
        RawGrpc.Outcome o = raw.call("GetSandbox", unknownFields(GetSandboxRequest.newBuilder().setName("keeper").build()));
        expectOk(o);
        assertEquals(keeper.getId(), SandboxResponse.parseFrom(o.messages().get(0)).getSandbox().getId());
      });

      tally.check("ListSandboxes with limit 2^32-1 is capped", () -> {
        RawGrpc.Outcome o = raw.call("ListSandboxes", ListSandboxesRequest.newBuilder().setLimit(-1).build().toByteArray());
        expectOk(o);
        assertTrue(ListSandboxesResponse.parseFrom(o.messages().get(0)).getSandboxesCount() >= 2, o.toString());
      });
      tally.check("ListSandboxes with offset 2^32-1 is empty", () -> {
        RawGrpc.Outcome o = raw.call("ListSandboxes", ListSandboxesRequest.newBuilder().setOffset(-1).build().toByteArray());
        expectOk(o);
        assertEquals(0, ListSandboxesResponse.parseFrom(o.messages().get(0)).getSandboxesCount());
      });
      tally.check("ListSandboxes with unknown fields is served", () -> expectOk(raw.call("ListSandboxes",
          unknownFields(ListSandboxesRequest.getDefaultInstance()))));

      tally.check("DeleteSandbox with empty name", () -> expect(raw.call("DeleteSandbox", delete("")),
          Status.Code.INVALID_ARGUMENT, "name is required"));
      tally.check("DeleteSandbox of a missing sandbox", () -> expect(raw.call("DeleteSandbox", delete("nope-missing")),
          Status.Code.NOT_FOUND, "sandbox 'nope-missing' not found"));
      tally.check("DeleteSandbox with invalid name", () -> expect(raw.call("DeleteSandbox", delete("keeper/../x")),
          Status.Code.INVALID_ARGUMENT, "invalid sandbox name"));
    });
  }

  // --- transport: bytes that are not the message they claim to be, sizes, metadata ----------------

  @Test
  @Order(2)
  void malformedOversizedAndOddlyFramedRequestsGetTheRightStatus() {
    group(() -> {
      byte[][] malformed = {
          {0x0a, 0x7f, 0x01}, // length 127, one byte follows
          {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01},
          {0x0f}, // wire type 7 does not exist
          {0x00}, // field number 0 does not exist
      };
      for (String method : List.of("Health", "GetSandbox", "CreateSandbox", "ExecSandbox", "ConnectSupervisor", "RelayStream",
          "PushSandboxLogs", "WatchSandbox")) {
        for (int i = 0; i < malformed.length; i++) {
          byte[] bytes = malformed[i];
          tally.check(method + " with malformed protobuf #" + i, () -> expect(raw.call(method, bytes),
              Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
        }
      }
      tally.check("GetSandbox request of exactly 1 MiB reaches validation", () -> {
        RawGrpc.Outcome o = raw.call("GetSandbox", ofSize(MIB, n -> get("n".repeat(n))));
        expect(o, Status.Code.INVALID_ARGUMENT, "invalid sandbox name");
        assertTrue(o.description().length() < 300, "the refusal echoes at most a short prefix of the name: " + o.description().length());
      });
      tally.check("GetSandbox request of 1 MiB + 1 byte", () -> expect(raw.call("GetSandbox", ofSize(MIB + 1, n -> get("n".repeat(n)))),
          Status.Code.RESOURCE_EXHAUSTED, "1048577 bytes; the gateway accepts at most 1048576"));
      tally.check("CreateSandbox request of 4 MiB", () -> expect(raw.call("CreateSandbox", ofSize(4 * MIB, n -> create("n".repeat(n)))),
          Status.Code.RESOURCE_EXHAUSTED, "the gateway accepts at most 1048576"));
      tally.check("ConnectSupervisor Hello of 1 MiB + 1 byte", () -> expect(raw.call("ConnectSupervisor",
          ofSize(MIB + 1, n -> hello("h".repeat(n)))), Status.Code.RESOURCE_EXHAUSTED, "the gateway accepts at most 1048576"));
      tally.check("RelayStream frame of 1 MiB + 1 byte", () -> expect(raw.call("RelayStream",
          ofSize(MIB + 1, n -> RelayFrame.newBuilder().setData(ByteString.copyFrom(new byte[n])).build().toByteArray())),
          Status.Code.RESOURCE_EXHAUSTED, "the gateway accepts at most 1048576"));
      // With the sandbox's credential, so the size limit is the only thing wrong: without it the refusal of the
      // first message (UNAUTHENTICATED) raced the second message's decoding, and either could answer first.
      tally.check("PushSandboxLogs second message of 1 MiB + 1 byte", () -> expect(raw.call("PushSandboxLogs",
          credentialHeader(credentialFromJournal(keeper.getId())), CallOptions.DEFAULT,
          List.of(push(keeper.getId(), "small"), ofSize(MIB + 1, n -> push(keeper.getId(), "x".repeat(n))))),
          Status.Code.RESOURCE_EXHAUSTED, "the gateway accepts at most 1048576"));
      tally.check("ExecSandbox request of 5 MiB + 1 byte", () -> expect(raw.call("ExecSandbox", ofSize(5 * MIB + 1,
          n -> exec(keeper.getId(), "cat").setStdin(ByteString.copyFrom(new byte[n])).build().toByteArray())),
          Status.Code.RESOURCE_EXHAUSTED, "the gateway accepts at most 5242880"));
      tally.check("A gzip-compressed request", () -> expect(raw.call("GetSandbox", new Metadata(), CallOptions.DEFAULT.withCompression("gzip"),
          List.of(get("keeper"))), Status.Code.UNIMPLEMENTED, "send them uncompressed"));
      tally.check("An unknown method", () -> expect(raw.call("NoSuchMethod", new byte[0]), Status.Code.UNIMPLEMENTED, ""));
      tally.check("A unary call with no request message", () -> expect(raw.call("GetSandbox"), Status.Code.INVALID_ARGUMENT,
          "a unary method takes exactly one"));
      // pekko-grpc answers the first message and ignores the rest (grpc-java would say INTERNAL): harmless.
      tally.check("A unary call with two request messages is answered for the first", () -> {
        RawGrpc.Outcome o = raw.call("GetSandbox", get("keeper"), get("no-such-second"));
        expectOk(o);
        assertEquals("keeper", SandboxResponse.parseFrom(o.messages().get(0)).getSandbox().getName());
      });
      for (Map.Entry<String, byte[]> header : Map.of(
          "UTF-8 non-ASCII", "s\u00e4ndbox \u2603".getBytes(StandardCharsets.UTF_8),
          "invalid UTF-8", new byte[] {'a', (byte) 0xff, (byte) 0xfe, 'b'},
          "Latin-1", new byte[] {'c', (byte) 0xe9}).entrySet()) {
        tally.check("Metadata with " + header.getKey() + " bytes is ignored", () -> {
          Metadata headers = new Metadata();
          headers.put(InternalMetadata.keyOf("x-sandbox-id", RAW_ASCII), header.getValue());
          headers.put(InternalMetadata.keyOf("authorization", RAW_ASCII), header.getValue());
          RawGrpc.Outcome o = raw.call("Health", headers, CallOptions.DEFAULT, List.of(HealthRequest.getDefaultInstance().toByteArray()));
          expectOk(o);
        });
      }
      tally.check("The gateway still answers Health after the transport cases", () -> expectOk(raw.call("Health",
          HealthRequest.getDefaultInstance().toByteArray())));
    });
  }

  // --- SSH sessions ------------------------------------------------------------------------------

  @Test
  @Order(3)
  void sshSessionCallsRefuseBadRequests() {
    group(() -> {
      tally.check("CreateSshSession with empty sandbox_id", () -> expect(raw.call("CreateSshSession", sshSession("")),
          Status.Code.INVALID_ARGUMENT, "sandbox_id is required"));
      tally.check("CreateSshSession for an unknown sandbox", () -> expect(raw.call("CreateSshSession",
          sshSession(UUID.randomUUID().toString())), Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("CreateSshSession for a junk sandbox id", () -> expect(raw.call("CreateSshSession",
          sshSession("../\u0000\u00e4" + "x".repeat(2000))), Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("CreateSshSession with invalid UTF-8", () -> expect(raw.call("CreateSshSession", invalidUtf8Field(1)),
          Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
      tally.check("RevokeSshSession with empty token", () -> expect(raw.call("RevokeSshSession", revoke("")),
          Status.Code.INVALID_ARGUMENT, "token is required"));
      for (String token : List.of("not-a-token", "t\u00f6ken\u0000", "x".repeat(5000))) {
        tally.check("RevokeSshSession of unknown token " + printable(token), () -> {
          RawGrpc.Outcome o = raw.call("RevokeSshSession", revoke(token));
          expectOk(o);
          assertFalse(RevokeSshSessionResponse.parseFrom(o.messages().get(0)).getRevoked());
        });
      }
    });
  }

  // --- exec --------------------------------------------------------------------------------------

  @Test
  @Order(4)
  void execRefusesEachLimitOneOverItsEdgeAndRunsAtTheEdge() {
    String id = keeper.getId();
    group(() -> {
      tally.check("ExecSandbox with empty sandbox_id", () -> expect(raw.call("ExecSandbox",
          ExecSandboxRequest.newBuilder().addCommand("true").build().toByteArray()), Status.Code.INVALID_ARGUMENT, "sandbox_id is required"));
      tally.check("ExecSandbox without command", () -> expect(raw.call("ExecSandbox",
          ExecSandboxRequest.newBuilder().setSandboxId(id).build().toByteArray()), Status.Code.INVALID_ARGUMENT, "command is required"));
      for (String key : List.of("1BAD", "A-B", "", "K=V", "K\u0000", "\u00c4")) {
        tally.check("ExecSandbox with env key " + printable(key), () -> expect(raw.call("ExecSandbox",
            exec(id, "true").putEnvironment(key, "v").build().toByteArray()), Status.Code.INVALID_ARGUMENT, "is invalid"));
      }
      tally.check("ExecSandbox with 1025 arguments", () -> expect(raw.call("ExecSandbox", execArgs(id, 1025, 1)),
          Status.Code.INVALID_ARGUMENT, "command has 1025 arguments; at most 1024"));
      tally.check("ExecSandbox with 1024 arguments runs", () -> expectExit(raw.call("ExecSandbox", execArgs(id, 1024, 1)), 0));
      tally.check("ExecSandbox with a 32769-byte argument", () -> expect(raw.call("ExecSandbox",
          exec(id, "true", "a".repeat(32769)).build().toByteArray()), Status.Code.INVALID_ARGUMENT, "is 32769 bytes; at most 32768"));
      tally.check("ExecSandbox with a 32768-byte argument runs", () -> expectExit(raw.call("ExecSandbox",
          exec(id, "true", "a".repeat(32768)).build().toByteArray()), 0));
      tally.check("ExecSandbox with an argument of 16385 two-byte characters (32770 bytes)", () -> expect(raw.call("ExecSandbox",
          exec(id, "true", "\u00e4".repeat(16385)).build().toByteArray()), Status.Code.INVALID_ARGUMENT, "is 32770 bytes"));
      tally.check("ExecSandbox with a 32769-byte env value", () -> expect(raw.call("ExecSandbox",
          exec(id, "true").putEnvironment("V", "v".repeat(32769)).build().toByteArray()), Status.Code.INVALID_ARGUMENT,
          "environment value of V is 32769 bytes; at most 32768"));
      tally.check("ExecSandbox with a 32768-byte env value runs", () -> expectExit(raw.call("ExecSandbox",
          exec(id, "sh", "-c", "test ${#V} -eq 32768").putEnvironment("V", "v".repeat(32768)).build().toByteArray()), 0));
      tally.check("ExecSandbox with a 4097-byte workdir", () -> expect(raw.call("ExecSandbox",
          exec(id, "true").setWorkdir("/" + "w".repeat(4096)).build().toByteArray()), Status.Code.INVALID_ARGUMENT,
          "workdir is 4097 bytes; at most 4096"));
      tally.check("ExecSandbox with a 4096-byte workdir passes validation (cd then fails in the sandbox)", () -> {
        RawGrpc.Outcome o = raw.call("ExecSandbox", exec(id, "true").setWorkdir("/" + "w".repeat(4095)).build().toByteArray());
        expectOk(o);
        assertNotEquals(0, exitCode(o), "no such directory: cd fails");
      });
      // exec.max-command-bytes is 255 KiB (one SSH packet carries no more); past 100 KiB the supervisor
      // hands the command to bash in pieces (Linux refuses a single argument over 128 KiB).
      tally.check("ExecSandbox with a 261121-byte command", () -> expect(raw.call("ExecSandbox", commandOfBytes(id, 255 * 1024 + 1)),
          Status.Code.INVALID_ARGUMENT, "assembled command is 261121 bytes; at most 261120"));
      tally.check("ExecSandbox with a 261120-byte command runs", () -> expectExit(raw.call("ExecSandbox", commandOfBytes(id, 255 * 1024)), 0));
      tally.check("ExecSandbox with stdin of 4 MiB + 1 byte", () -> expect(raw.call("ExecSandbox",
          exec(id, "wc", "-c").setStdin(ByteString.copyFrom(new byte[4 * MIB + 1])).build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "stdin is 4194305 bytes; at most 4194304"));
      tally.check("ExecSandbox with stdin of exactly 4 MiB runs", () -> {
        RawGrpc.Outcome o = raw.call("ExecSandbox", exec(id, "wc", "-c").setStdin(ByteString.copyFrom(new byte[4 * MIB])).build().toByteArray());
        expectExit(o, 0);
        assertEquals("4194304", stdout(o).trim());
      });
      tally.check("ExecSandbox with NUL in an argument", () -> expect(raw.call("ExecSandbox", exec(id, "echo", "a\u0000b").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "command argument 1 contains a NUL byte"));
      tally.check("ExecSandbox with LF in an argument", () -> expect(raw.call("ExecSandbox", exec(id, "echo", "a\nb").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "pass multi-line scripts through stdin"));
      tally.check("ExecSandbox with CR in an argument", () -> expect(raw.call("ExecSandbox", exec(id, "echo", "a\rb").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "newline or carriage return"));
      tally.check("ExecSandbox with CR in workdir", () -> expect(raw.call("ExecSandbox", exec(id, "true").setWorkdir("/tmp\r").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "workdir contains a newline or carriage return"));
      tally.check("ExecSandbox with NUL in workdir", () -> expect(raw.call("ExecSandbox", exec(id, "true").setWorkdir("/tmp\u0000").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "workdir contains a NUL byte"));
      tally.check("ExecSandbox with NUL in an env value", () -> expect(raw.call("ExecSandbox",
          exec(id, "true").putEnvironment("V", "a\u0000").build().toByteArray()), Status.Code.INVALID_ARGUMENT, "contains a NUL byte"));
      tally.check("ExecSandbox with invalid UTF-8 in the command", () -> expect(raw.call("ExecSandbox",
          concat(ExecSandboxRequest.newBuilder().setSandboxId(id).build().toByteArray(), invalidUtf8Field(2))),
          Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
      tally.check("ExecSandbox in an unknown sandbox", () -> expect(raw.call("ExecSandbox",
          exec(UUID.randomUUID().toString(), "true").build().toByteArray()), Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("ExecSandbox with unknown fields runs", () -> {
        RawGrpc.Outcome o = raw.call("ExecSandbox", unknownFields(exec(id, "echo", "tolerated").build()));
        expectExit(o, 0);
        assertEquals("tolerated\n", stdout(o));
      });
    });
  }

  // --- logs and watch ----------------------------------------------------------------------------

  @Test
  @Order(5)
  void logAndWatchCallsRefuseBadRequests() {
    String id = keeper.getId();
    group(() -> {
      tally.check("GetSandboxLogs with empty sandbox_id", () -> expect(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.getDefaultInstance().toByteArray()), Status.Code.INVALID_ARGUMENT, "sandbox_id is required"));
      tally.check("GetSandboxLogs of an unknown sandbox", () -> expect(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.newBuilder().setSandboxId(UUID.randomUUID().toString()).build().toByteArray()),
          Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("GetSandboxLogs with an unknown level", () -> expect(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.newBuilder().setSandboxId(id).setMinLevel("loud").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "unknown log level 'loud'"));
      tally.check("GetSandboxLogs with an unknown source", () -> expect(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.newBuilder().setSandboxId(id).addSources("disk").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "unknown log source 'disk'"));
      tally.check("GetSandboxLogs with negative since_ms", () -> expect(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.newBuilder().setSandboxId(id).setSinceMs(-1).build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "since_ms must not be negative"));
      tally.check("GetSandboxLogs with lines 2^32-1 is capped", () -> expectOk(raw.call("GetSandboxLogs",
          GetSandboxLogsRequest.newBuilder().setSandboxId(id).setLines(-1).build().toByteArray())));

      tally.check("PushSandboxLogs with no message", () -> expectOk(raw.call("PushSandboxLogs")));
      tally.check("PushSandboxLogs with empty sandbox_id", () -> expect(raw.call("PushSandboxLogs",
          PushSandboxLogsRequest.getDefaultInstance().toByteArray()), Status.Code.INVALID_ARGUMENT, "sandbox_id is required"));
      tally.check("PushSandboxLogs for an unknown sandbox", () -> expect(raw.call("PushSandboxLogs",
          push(UUID.randomUUID().toString(), "x")), Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("PushSandboxLogs with invalid UTF-8 in a line", () -> expect(raw.call("PushSandboxLogs",
          concat(PushSandboxLogsRequest.newBuilder().setSandboxId(id).build().toByteArray(), lengthDelimited(2, invalidUtf8Field(5)))),
          Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));

      tally.check("WatchSandbox with empty id", () -> expect(raw.call("WatchSandbox", WatchSandboxRequest.getDefaultInstance().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "id is required"));
      tally.check("WatchSandbox of an unknown sandbox", () -> expect(raw.call("WatchSandbox",
          WatchSandboxRequest.newBuilder().setId(UUID.randomUUID().toString()).build().toByteArray()), Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("WatchSandbox with an unknown level", () -> expect(raw.call("WatchSandbox",
          WatchSandboxRequest.newBuilder().setId(id).setFollowLogs(true).setLogMinLevel("loud").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "unknown log level 'loud'"));
      tally.check("WatchSandbox with an unknown source", () -> expect(raw.call("WatchSandbox",
          WatchSandboxRequest.newBuilder().setId(id).setFollowLogs(true).addLogSources("disk").build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "unknown log source 'disk'"));
      tally.check("WatchSandbox with unknown fields and stop_on_terminal ends after the READY snapshot", () -> {
        RawGrpc.Outcome o = raw.call("WatchSandbox", unknownFields(WatchSandboxRequest.newBuilder().setId(id).setStopOnTerminal(true).build()));
        expectOk(o);
        assertEquals(SandboxPhase.SANDBOX_PHASE_READY, SandboxStreamEvent.parseFrom(o.messages().get(0)).getSandbox().getPhase());
      });
    });
  }

  // --- supervisor sessions -----------------------------------------------------------------------

  @Test
  @Order(6)
  void connectSupervisorRefusesBadFirstFramesAndAFloodOfUnknownSandboxesLeavesNoState() throws Exception {
    long gatewayPid = gateway.process.pid();
    Map<String, Long> heapBefore = LiveHeap.instances(gatewayPid);
    long actorsBefore = heapBefore.getOrDefault(ACTOR_CELL, 0L);
    group(() -> {
      tally.check("ConnectSupervisor with a heartbeat first", () -> expect(raw.call("ConnectSupervisor",
          SupervisorMessage.newBuilder().setHeartbeat(SupervisorHeartbeat.getDefaultInstance()).build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "expected SupervisorHello"));
      tally.check("ConnectSupervisor with a RelayOpenResult first", () -> expect(raw.call("ConnectSupervisor",
          SupervisorMessage.newBuilder().setRelayOpenResult(RelayOpenResult.newBuilder().setChannelId("c").setSuccess(true)).build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "expected SupervisorHello"));
      tally.check("ConnectSupervisor with an unknown payload kind first", () -> expect(raw.call("ConnectSupervisor",
          new byte[] {0x4a, 0x00}), Status.Code.INVALID_ARGUMENT, "expected SupervisorHello"));
      tally.check("ConnectSupervisor with an empty stream", () -> expect(raw.call("ConnectSupervisor"),
          Status.Code.INVALID_ARGUMENT, "stream closed before hello"));
      tally.check("ConnectSupervisor with empty sandbox_id", () -> expect(raw.call("ConnectSupervisor", hello("")),
          Status.Code.INVALID_ARGUMENT, "sandbox_id is required"));
      tally.check("ConnectSupervisor for an unknown sandbox", () -> expect(raw.call("ConnectSupervisor", hello(UUID.randomUUID().toString())),
          Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("ConnectSupervisor for a junk sandbox id", () -> expect(raw.call("ConnectSupervisor", hello("\u0000/../\u00e4" + "j".repeat(3000))),
          Status.Code.NOT_FOUND, "sandbox not found"));
      tally.check("ConnectSupervisor with invalid UTF-8 in the Hello", () -> expect(raw.call("ConnectSupervisor",
          lengthDelimited(1, invalidUtf8Field(1))), Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));

      int flood = 300;
      List<String> unknownIds = new ArrayList<>();
      for (int i = 0; i < flood; i++) unknownIds.add(UUID.randomUUID().toString());
      List<Map<String, Long>> heap = new ArrayList<>();
      tally.check("A flood of " + flood + " Hellos from unknown sandboxes is refused, each NOT_FOUND", () -> helloFlood(unknownIds));
      tally.check("After the flood no session or entity is left for the unknown sandboxes; new actors are shards only", () -> {
        heap.add(settledHeap(gatewayPid, heapBefore));
        Map<String, Long> after = heap.get(0);
        long actors = after.getOrDefault(ACTOR_CELL, 0L) - actorsBefore;
        long shards = after.getOrDefault(SHARD, 0L) - heapBefore.getOrDefault(SHARD, 0L);
        System.out.printf("BadInputIT: live actors in the gateway before the Hello flood %d, after %d (%d new shard actors)%n",
            actorsBefore, after.getOrDefault(ACTOR_CELL, 0L), shards);
        assertEquals(2L, after.getOrDefault(SESSION, 0L), "only the two real supervisors' sessions are left");
        assertEquals(heapBefore.getOrDefault(ENTITY, 0L), after.getOrDefault(ENTITY, 0L), "no sandbox entity stays for an unknown id");
        // Pekko keeps a shard actor once an id hashed to it; there are number-of-shards (1000) of them at most.
        assertTrue(actors <= shards + 10, () -> actors + " new actors, " + shards + " of them shards; grew most: " + grewMost(heapBefore, after));
      });
      tally.check("The same flood again adds no actor at all: nothing is kept per unknown sandbox", () -> {
        helloFlood(unknownIds);
        Map<String, Long> again = settledHeap(gatewayPid, heap.get(0));
        assertTrue(again.getOrDefault(ACTOR_CELL, 0L) <= heap.get(0).getOrDefault(ACTOR_CELL, 0L) + 10,
            () -> "grew most: " + grewMost(heap.get(0), again));
      });
    });
  }

  private static void helloFlood(List<String> sandboxIds) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<CompletableFuture<RawGrpc.Outcome>> calls = new ArrayList<>();
      for (String id : sandboxIds) calls.add(CompletableFuture.supplyAsync(() -> raw.call("ConnectSupervisor", hello(id)), pool));
      Map<String, Integer> outcomes = new TreeMap<>();
      for (var call : calls) outcomes.merge(call.get(180, TimeUnit.SECONDS).toString(), 1, Integer::sum);
      assertEquals(Map.of("NOT_FOUND \"sandbox not found\" after 0 response message(s)", sandboxIds.size()), outcomes);
    } finally {
      pool.shutdownNow();
    }
  }

  /** The live heap once the actor count stops falling towards the baseline (passivation is asynchronous). */
  private static Map<String, Long> settledHeap(long pid, Map<String, Long> baseline) throws Exception {
    Map<String, Long> now = LiveHeap.instances(pid);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline && now.getOrDefault(ENTITY, 0L) > baseline.getOrDefault(ENTITY, 0L)) {
      java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
      now = LiveHeap.instances(pid);
    }
    return now;
  }

  private static final String SHARD = "org.apache.pekko.cluster.sharding.Shard";
  private static final String SESSION = "io.openshell.gateway.session.SupervisorSession$Connection";
  private static final String ENTITY = "io.openshell.gateway.sandbox.Sandbox";

  private static final String ACTOR_CELL = "org.apache.pekko.actor.ActorCell";

  private static String grewMost(Map<String, Long> before, Map<String, Long> after) {
    return after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 50)
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(25)
        .map(e -> e.getKey() + " +" + e.getValue())
        .toList().toString();
  }

  // --- relays ------------------------------------------------------------------------------------

  @Test
  @Order(7)
  void relayStreamRefusesBadFirstFramesAndUnknownChannels() {
    group(() -> {
      tally.check("RelayStream with an empty stream", () -> expect(raw.call("RelayStream"), Status.Code.INVALID_ARGUMENT, "empty RelayStream"));
      tally.check("RelayStream with data first", () -> expect(raw.call("RelayStream",
          RelayFrame.newBuilder().setData(ByteString.copyFromUtf8("SSH-2.0-x")).build().toByteArray()),
          Status.Code.INVALID_ARGUMENT, "first RelayFrame must be init with non-empty channel_id"));
      tally.check("RelayStream with a frame that has no payload first", () -> expect(raw.call("RelayStream", new byte[0]),
          Status.Code.INVALID_ARGUMENT, "first RelayFrame must be init with non-empty channel_id"));
      tally.check("RelayStream with empty channel id", () -> expect(raw.call("RelayStream", init("")),
          Status.Code.INVALID_ARGUMENT, "first RelayFrame must be init with non-empty channel_id"));
      tally.check("RelayStream for an unknown channel", () -> expect(raw.call("RelayStream", init(UUID.randomUUID().toString())),
          Status.Code.NOT_FOUND, "unknown or expired relay channel"));
      tally.check("RelayStream for a junk channel id", () -> expect(raw.call("RelayStream", init("\u0000\u00e4/../" + "c".repeat(4000))),
          Status.Code.NOT_FOUND, "unknown or expired relay channel"));
      tally.check("RelayStream with invalid UTF-8 in the channel id", () -> expect(raw.call("RelayStream",
          lengthDelimited(1, invalidUtf8Field(1))), Status.Code.INVALID_ARGUMENT, "not a valid protobuf message"));
    });
  }

  /**
   * Supervisor calls without the sandbox's credential or with another sandbox's, then claims of channels
   * from other connections, with the sandbox's real supervisor stopped (SIGSTOP) so a test connection
   * can play its supervisor (with the credential read from the journal, as an operator with database
   * access could). Also the refusals that need a sandbox whose session failed a relay (502) or went away
   * (412, FAILED_PRECONDITION).
   */
  @Test
  @Order(8)
  void relayClaimsOfOtherConnectionsChannelsAndSessionLossAreHandled() throws Exception {
    String hijackCredential = credentialFromJournal(hijack.getId());
    String keeperCredential = credentialFromJournal(keeper.getId());
    group(() -> {
      tally.check("ConnectSupervisor Hello for a sandbox without a credential", () -> expect(raw.call("ConnectSupervisor",
          hello(hijack.getId())), Status.Code.UNAUTHENTICATED, "no sandbox credential"));
      tally.check("ConnectSupervisor Hello for a sandbox with another sandbox's credential", () -> expect(raw.call("ConnectSupervisor",
          credentialHeader(keeperCredential), CallOptions.DEFAULT, List.of(hello(hijack.getId()))),
          Status.Code.PERMISSION_DENIED, "a supervisor may only speak for its own sandbox"));
      tally.check("ConnectSupervisor Hello with a credential that is no sandbox's", () -> expect(raw.call("ConnectSupervisor",
          credentialHeader("x".repeat(43)), CallOptions.DEFAULT, List.of(hello(hijack.getId()))),
          Status.Code.PERMISSION_DENIED, "a supervisor may only speak for its own sandbox"));
      tally.check("PushSandboxLogs into a sandbox without a credential", () -> expect(raw.call("PushSandboxLogs",
          push(hijack.getId(), "forged")), Status.Code.UNAUTHENTICATED, "no sandbox credential"));
      tally.check("PushSandboxLogs into a sandbox with another sandbox's credential", () -> expect(raw.call("PushSandboxLogs",
          credentialHeader(keeperCredential), CallOptions.DEFAULT, List.of(push(hijack.getId(), "forged"))),
          Status.Code.PERMISSION_DENIED, "a supervisor may only speak for its own sandbox"));
    });
    long supervisor = Processes.supervisorJvm(hijack.getId());
    Processes.kill(supervisor, "STOP");
    try {
      RawGrpc.Open fake = raw.open("ConnectSupervisor", credentialHeader(hijackCredential), CallOptions.DEFAULT);
      fake.send(hello(hijack.getId()));
      group(() -> {
        tally.check("ConnectSupervisor Hello with the sandbox's own credential is accepted", () -> {
          GatewayMessage first = GatewayMessage.parseFrom(requireNext(fake));
          assertTrue(first.hasSessionAccepted(), first.toString());
        });
        tally.check("A tunnel whose relay the supervisor refuses gets 502", () -> {
          try (ConnectClient tunnel = tunnel()) {
            tunnel.send(ConnectClient.connectHead(hijack.getId(), hijackSsh.getToken()));
            String channel = nextRelayOpen(fake);
            fake.send(SupervisorMessage.newBuilder().setRelayOpenResult(RelayOpenResult.newBuilder()
                .setChannelId(channel).setSuccess(false).setError("test supervisor refuses")).build().toByteArray());
            assertEquals(502, tunnel.status(), tunnel.responseHead());
          }
        });
        aChannelIsClaimedOnlyWithItsSandboxsCredential(fake, hijackCredential, keeperCredential);
        tally.check("A relay nobody claims within the claim timeout fails the exec UNAVAILABLE, then its channel is expired", () -> {
          CompletableFuture<RawGrpc.Outcome> execution = CompletableFuture.supplyAsync(
              () -> raw.call("ExecSandbox", exec(hijack.getId(), "true").build().toByteArray()));
          String channel = nextRelayOpen(fake);
          expect(execution.get(60, TimeUnit.SECONDS), Status.Code.UNAVAILABLE, "supervisor relay failed");
          expect(raw.call("RelayStream", credentialHeader(hijackCredential), CallOptions.DEFAULT, List.of(init(channel))),
              Status.Code.NOT_FOUND, "unknown or expired relay channel");
        });
        tally.check("The sandbox loses READY when its session ends", () -> {
          fake.cancel();
          awaitPhase("hijack-target", SandboxPhase.SANDBOX_PHASE_PROVISIONING);
        });
        tally.check("A tunnel to a sandbox that is not READY gets 412", () -> {
          try (ConnectClient tunnel = tunnel()) {
            assertEquals(412, tunnel.send(ConnectClient.connectHead(hijack.getId(), hijackSsh.getToken())).status(), tunnel.responseHead());
          }
        });
        tally.check("CreateSshSession for a sandbox that is not READY", () -> expect(raw.call("CreateSshSession",
            sshSession(hijack.getId())), Status.Code.FAILED_PRECONDITION, "sandbox is not ready"));
        tally.check("ExecSandbox in a sandbox that is not READY", () -> expect(raw.call("ExecSandbox",
            exec(hijack.getId(), "true").build().toByteArray()), Status.Code.FAILED_PRECONDITION, "sandbox is not ready"));
      });
    } finally {
      Processes.kill(supervisor, "CONT");
    }
    // The real supervisor notices its superseded stream, reconnects and the sandbox is READY again.
    awaitPhase("hijack-target", SandboxPhase.SANDBOX_PHASE_READY);
    GatewayClient.ExecOutcome back = client.exec(exec(hijack.getId(), "echo", "back").build(), Duration.ofSeconds(60));
    assertEquals("back\n", back.stdout(), back.toString());
  }

  /**
   * RelayInit for a sandbox's channel from other connections: refused without a credential and with
   * another sandbox's, and neither refusal uses the claim up — the sandbox's own credential then gets it.
   */
  private static void aChannelIsClaimedOnlyWithItsSandboxsCredential(RawGrpc.Open fake, String ownCredential,
      String otherCredential) {
    tally.check("RelayInit for another sandbox's channel is refused, and the channel stays claimable by its own", () -> {
      CompletableFuture<RawGrpc.Outcome> execution = CompletableFuture.supplyAsync(
          () -> raw.call("ExecSandbox", exec(hijack.getId(), "true").build().toByteArray()));
      String channel = nextRelayOpen(fake);
      expect(raw.call("RelayStream", init(channel)), Status.Code.UNAUTHENTICATED, "no sandbox credential");
      expect(raw.call("RelayStream", credentialHeader(otherCredential), CallOptions.DEFAULT, List.of(init(channel))),
          Status.Code.PERMISSION_DENIED, "relay channel belongs to another sandbox's supervisor session");
      try (RawGrpc stranger = new RawGrpc(gateway.port)) {
        RawGrpc.Open claim = stranger.open("RelayStream", credentialHeader(ownCredential), CallOptions.DEFAULT);
        claim.send(init(channel));
        // The gateway's SSH client speaks first: its version line arrives through the claimed relay.
        RelayFrame frame = RelayFrame.parseFrom(requireNext(claim));
        assertTrue(frame.getData().toStringUtf8().startsWith("SSH-2.0-"), frame.toString());
        // A second Init is not data: it ends the claimant's direction, and the exec fails, nothing hangs.
        claim.send(init(channel));
        claim.halfClose();
        RawGrpc.Outcome exec = execution.get(90, TimeUnit.SECONDS);
        assertEquals(Status.Code.UNAVAILABLE, exec.code(), exec.toString());
        claim.cancel();
      }
      expect(raw.call("RelayStream", credentialHeader(ownCredential), CallOptions.DEFAULT, List.of(init(channel))),
          Status.Code.NOT_FOUND, "unknown or expired relay channel");
    });
  }

  private static Metadata credentialHeader(String credential) {
    Metadata headers = new Metadata();
    headers.put(Metadata.Key.of("x-sandbox-credential", Metadata.ASCII_STRING_MARSHALLER), credential);
    return headers;
  }

  /**
   * The sandbox's supervisor credential from its SandboxCreated event (jackson-cbor) in the gateway's
   * journal: the process driver hands it to the supervisor on a pipe, so the test has no other way in.
   */
  private static String credentialFromJournal(String sandboxId) throws Exception {
    org.sqlite.SQLiteConfig readOnly = new org.sqlite.SQLiteConfig();
    readOnly.setReadOnly(true);
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db, readOnly.toProperties());
         java.sql.PreparedStatement query = c.prepareStatement("SELECT event_payload FROM event_journal"
             + " WHERE persistence_id LIKE ? AND event_ser_manifest LIKE '%SandboxCreated%' ORDER BY ordering")) {
      query.setString(1, "%" + sandboxId);
      try (ResultSet rows = query.executeQuery()) {
        assertTrue(rows.next(), "no SandboxCreated event for " + sandboxId + " in the journal");
        String credential = new com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper()
            .readTree(rows.getBytes(1)).path("supervisorCredential").asText("");
        assertFalse(credential.isEmpty(), "the SandboxCreated event of " + sandboxId + " carries no credential");
        return credential;
      }
    }
  }

  private static String nextRelayOpen(RawGrpc.Open fake) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      GatewayMessage message = GatewayMessage.parseFrom(requireNext(fake));
      if (message.hasRelayOpen()) return message.getRelayOpen().getChannelId();
    }
    throw new AssertionError("no RelayOpen within 30 s");
  }

  private static byte[] requireNext(RawGrpc.Open call) throws Exception {
    byte[] next = call.next(Duration.ofSeconds(30));
    if (next == null) {
      throw new AssertionError("no message within 30 s" + (call.closed.isDone() ? "; call ended " + call.closed.get() : ""));
    }
    return next;
  }

  // --- HTTP routes and the WebSocket tunnel --------------------------------------------------------

  @Test
  @Order(9)
  void httpRoutesAndTheWebSocketTunnelAnswerBadRequestsWithTheirCodes() {
    group(() -> {
      tally.check("GET /healthz", () -> assertEquals("200 ok\n", httpGet("GET", "/healthz")));
      tally.check("GET /readyz", () -> assertEquals("200 ready\n", httpGet("GET", "/readyz")));
      tally.check("POST /healthz", () -> assertTrue(httpGet("POST", "/healthz").startsWith("405 ")));
      tally.check("DELETE /readyz", () -> assertTrue(httpGet("DELETE", "/readyz").startsWith("405 ")));
      tally.check("GET of an unknown path", () -> assertTrue(httpGet("GET", "/no/such/route").startsWith("404 ")));
      tally.check("GET /connect/ssh without a WebSocket upgrade", () -> assertTrue(httpGet("GET", "/connect/ssh").startsWith("400 ")));
      // pekko-http refuses a header value that is not valid UTF-8 (obs-text is tolerated by RFC 9110 but
      // nothing legitimate sends it here): 400 is the answer, and the connection's next client is served.
      tally.check("GET /healthz with invalid UTF-8 in a header value", () -> {
        try (ConnectClient c = new ConnectClient(new InetSocketAddress("127.0.0.1", gateway.port))) {
          c.send(concat("GET /healthz HTTP/1.1\r\nHost: g\r\nX-Odd: ".getBytes(StandardCharsets.US_ASCII),
              new byte[] {(byte) 0xff, (byte) 0xc3, 0x28, (byte) 0xe2, (byte) 0x98, (byte) 0x83},
              "\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
          assertEquals(400, c.status(), c.responseHead());
        }
      });
      tally.check("GET /healthz with UTF-8 non-ASCII in a header value", () -> {
        try (ConnectClient c = new ConnectClient(new InetSocketAddress("127.0.0.1", gateway.port))) {
          c.send(concat("GET /healthz HTTP/1.1\r\nHost: g\r\nX-Odd: ".getBytes(StandardCharsets.US_ASCII),
              "s\u00e4ndbox \u2603".getBytes(StandardCharsets.UTF_8), "\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
          assertEquals(200, c.status(), c.responseHead());
        }
      });
      tally.check("A request with a 20 KiB header on the main port", () -> {
        try (ConnectClient c = new ConnectClient(new InetSocketAddress("127.0.0.1", gateway.port))) {
          c.send("GET /healthz HTTP/1.1\r\nHost: g\r\nX-Big: " + "b".repeat(20 * 1024) + "\r\nConnection: close\r\n\r\n");
          assertEquals(431, c.status(), c.responseHead());
        }
      });
      tally.check("TLS bytes on the plaintext main port are refused", () -> {
        try (ConnectClient c = new ConnectClient(new InetSocketAddress("127.0.0.1", gateway.port))) {
          c.send(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03, '\r', '\n', '\r', '\n'});
          assertEquals(400, c.status(), c.responseHead());
        }
      });
      String id = keeper.getId();
      String token = keeperSsh.getToken();
      tally.check("WebSocket upgrade without sandbox headers", () -> assertEquals(401, webSocket(null, null)));
      tally.check("WebSocket upgrade with an empty sandbox id", () -> assertEquals(400, webSocket("", token)));
      tally.check("WebSocket upgrade with a non-ASCII sandbox id", () -> assertEquals(400,
          webSocket(new String(("s\u00e4" + id).getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1), token)));
      tally.check("WebSocket upgrade with invalid UTF-8 in the token", () -> assertEquals(400,
          webSocket(id, new String(new byte[] {'t', (byte) 0xff, (byte) 0xfe}, StandardCharsets.ISO_8859_1))));
      tally.check("WebSocket upgrade with an unknown token", () -> assertEquals(401, webSocket(id, UUID.randomUUID().toString())));
      tally.check("WebSocket upgrade with another sandbox's token", () -> assertEquals(401, webSocket(hijack.getId(), token)));
      tally.check("WebSocket upgrade with the right headers (control case)", () -> assertEquals(101, webSocket(id, token)));
    });
  }

  // --- the CONNECT tunnel ------------------------------------------------------------------------

  @Test
  @Order(10)
  void connectTunnelRefusesBadHeadsAndCutsSlowClientsWhileServingOthers() {
    String id = keeper.getId();
    String token = keeperSsh.getToken();
    group(() -> {
      Map<String, Object[]> heads = new LinkedHashMap<>();
      heads.put("GET instead of CONNECT", new Object[] {"GET /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + id + "\r\nx-sandbox-token: " + token + "\r\n\r\n", 405});
      heads.put("no sandbox headers", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nHost: g\r\n\r\n", 401});
      heads.put("only x-sandbox-id", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + id + "\r\n\r\n", 401});
      heads.put("empty sandbox id", new Object[] {ConnectClient.connectHead("", token), 400});
      heads.put("empty token", new Object[] {ConnectClient.connectHead(id, ""), 400});
      heads.put("non-ASCII (UTF-8) sandbox id", new Object[] {latin1(ConnectClient.connectHead("s\u00e4" + id, token)), 400});
      heads.put("invalid UTF-8 in the token", new Object[] {ConnectClient.connectHead(id, "t\u00ff\u00fe"), 400});
      heads.put("a control character in the token", new Object[] {ConnectClient.connectHead(id, "t\u0001k"), 400});
      heads.put("an unknown token", new Object[] {ConnectClient.connectHead(id, UUID.randomUUID().toString()), 401});
      heads.put("a token of another sandbox", new Object[] {ConnectClient.connectHead(hijack.getId(), token), 401});
      heads.put("a token for an unknown sandbox id", new Object[] {ConnectClient.connectHead(UUID.randomUUID().toString(), token), 401});
      heads.put("a wrong path", new Object[] {"CONNECT /connect/other HTTP/1.1\r\nx-sandbox-id: " + id + "\r\nx-sandbox-token: " + token + "\r\n\r\n", 404});
      heads.put("HTTP/1.0", new Object[] {"CONNECT /connect/ssh HTTP/1.0\r\nx-sandbox-id: " + id + "\r\nx-sandbox-token: " + token + "\r\n\r\n", 505});
      heads.put("a binary request line", new Object[] {"\u0000\u0001\u0002\u00ff\r\n\r\n", 400});
      heads.put("a header line without a colon", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id " + id + "\r\n\r\n", 400});
      heads.put("x-sandbox-id twice", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + id + "\r\nx-sandbox-id: " + id
          + "\r\nx-sandbox-token: " + token + "\r\n\r\n", 400});
      heads.put("a 9 KiB head", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nx-pad: " + "p".repeat(9 * 1024) + "\r\n\r\n", 431});
      heads.put("a 1 MiB head sent at once", new Object[] {"CONNECT /connect/ssh HTTP/1.1\r\nx-pad: " + "p".repeat(MIB) + "\r\n\r\n", 431});
      for (Map.Entry<String, Object[]> head : heads.entrySet()) {
        tally.check("CONNECT with " + head.getKey(), () -> {
          try (ConnectClient tunnel = tunnel()) {
            try {
              tunnel.send((String) head.getValue()[0]);
            } catch (IOException closedWhileSending) {
              // the gateway may answer and close before a large head is fully written
            }
            assertEquals((int) head.getValue()[1], tunnel.status(), tunnel.responseHead());
          }
        });
      }
      tally.check("A fourth tunnel on one token gets 429 while three are open", () -> {
        List<ConnectClient> open = new ArrayList<>();
        try {
          for (int i = 0; i < 3; i++) {
            ConnectClient tunnel = tunnel();
            open.add(tunnel);
            assertEquals(200, tunnel.send(ConnectClient.connectHead(id, token)).status(), tunnel.responseHead());
          }
          try (ConnectClient fourth = tunnel()) {
            assertEquals(429, fourth.send(ConnectClient.connectHead(id, token)).status(), fourth.responseHead());
          }
        } finally {
          for (ConnectClient tunnel : open) tunnel.close();
        }
      });
      tally.check("Slowloris: clients trickling a head are cut with 408 at the head deadline while others are served", this::slowloris);
      tally.check("TLS bytes on the plaintext tunnel port are cut with 408", () -> {
        try (ConnectClient tunnel = tunnel()) {
          tunnel.send(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03});
          assertEquals(408, tunnel.status(), tunnel.responseHead());
        }
      });
    });
  }

  private void slowloris() throws Exception {
    int trickling = 10;
    ExecutorService pool = Executors.newFixedThreadPool(trickling);
    try {
      List<CompletableFuture<Integer>> slow = new ArrayList<>();
      for (int i = 0; i < trickling; i++) {
        slow.add(CompletableFuture.supplyAsync(() -> {
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", keeperSsh.getGatewayPort()), 5_000);
            socket.setSoTimeout(1_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            byte[] head = ConnectClient.connectHead(keeper.getId(), keeperSsh.getToken()).getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            long giveUp = System.nanoTime() + HEAD_TIMEOUT.multipliedBy(5).toNanos();
            // One byte a second: the head would take minutes; the gateway must cut it at its deadline.
            for (int at = 0; System.nanoTime() < giveUp; at++) {
              try {
                if (at < head.length - 1) out.write(head[at]);
                out.flush();
              } catch (IOException cut) {
                // the gateway closed after answering
              }
              try {
                int b = in.read();
                if (b < 0) break;
                answer.write(b);
                answer.write(in.readNBytes(in.available()));
                if (answer.toString(StandardCharsets.US_ASCII).contains("\r\n")) break;
              } catch (java.net.SocketTimeoutException nothingYet) {
                // keep trickling
              }
            }
            String line = answer.toString(StandardCharsets.US_ASCII);
            return line.startsWith("HTTP/1.1 ") ? Integer.parseInt(line.substring(9, 12)) : -1;
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }, pool));
      }
      // While they trickle, a well-behaved client gets its tunnel and the API answers.
      try (ConnectClient tunnel = tunnel()) {
        assertEquals(200, tunnel.send(ConnectClient.connectHead(keeper.getId(), keeperSsh.getToken())).status(), tunnel.responseHead());
        assertTrue(new String(tunnel.read(8), StandardCharsets.US_ASCII).startsWith("SSH-2.0"), "the sandbox's sshd answers");
      }
      expectOk(raw.call("Health", HealthRequest.getDefaultInstance().toByteArray()));
      for (CompletableFuture<Integer> client : slow) assertEquals(408, client.get(60, TimeUnit.SECONDS));
    } finally {
      pool.shutdownNow();
    }
  }

  // --- afterwards ---------------------------------------------------------------------------------

  @Test
  @Order(99)
  void afterEveryCaseTheGatewayServesACreateExecRoundTripAndNothingStoredChanged() throws Exception {
    System.out.println(tally.report());
    awaitPhase("hijack-target", SandboxPhase.SANDBOX_PHASE_READY);
    Sandbox fresh = createPatiently("after-bad-input");
    awaitPhase("after-bad-input", SandboxPhase.SANDBOX_PHASE_READY);
    GatewayClient.ExecOutcome outcome = client.exec(exec(fresh.getId(), "echo", "round", "trip").build(), Duration.ofSeconds(60));
    assertEquals("round trip\n", outcome.stdout(), outcome.toString());
    assertEquals(0, outcome.exitCode(), outcome.toString());

    Snapshot after = Snapshot.take();
    after.sandboxes.remove(fresh.getId());
    assertEquals(before.sandboxes, after.sandboxes, "sandboxes (id, name, spec, created, phase) are unchanged");
    assertEquals(before.keeper, after.keeper, "the untouched sandbox is unchanged in every field");
    assertEquals("ok", after.integrity, "SQLite integrity check");
    for (Map.Entry<Long, String> row : before.journal.entrySet()) {
      assertEquals(row.getValue(), after.journal.get(row.getKey()), "journal row " + row.getKey() + " is unchanged");
    }
    List<String> foreign = after.journal.entrySet().stream()
        .filter(row -> !before.journal.containsKey(row.getKey()))
        .map(Map.Entry::getValue)
        .map(row -> row.substring(0, row.indexOf(' ')))
        .filter(pid -> !before.persistenceIds().contains(pid) && !pid.endsWith(fresh.getId()) && !pid.endsWith("after-bad-input"))
        .toList();
    assertEquals(List.of(), foreign, "no journal rows for anything the bad input named");
    assertEquals(before.snapshots, after.snapshots, "snapshots are unchanged");
    System.out.printf("BadInputIT: journal rows before %d, after %d (the new ones are the round trip's sandbox and the"
        + " hijack target's readiness)%n", before.journal.size(), after.journal.size());

    // Both SSH sessions minted before still open tunnels to their sandboxes.
    for (CreateSshSessionResponse ssh : List.of(keeperSsh, hijackSsh)) {
      try (ConnectClient tunnel = tunnel()) {
        assertEquals(200, tunnel.send(ConnectClient.connectHead(ssh.getSandboxId(), ssh.getToken())).status(), tunnel.responseHead());
        assertTrue(new String(tunnel.read(8), StandardCharsets.US_ASCII).startsWith("SSH-2.0"));
      }
    }
    assertEquals(0, tally.failureCount(), tally.report());
  }

  /** What is stored: the API's view of every sandbox and the raw journal and snapshot rows. */
  private record Snapshot(Map<String, String> sandboxes, String keeper, Map<Long, String> journal, List<String> snapshots,
      String integrity) {
    static Snapshot take() throws Exception {
      Map<String, String> sandboxes = new TreeMap<>();
      ListSandboxesResponse list = ListSandboxesResponse.parseFrom(raw.call("ListSandboxes",
          ListSandboxesRequest.newBuilder().setLimit(1000).build().toByteArray()).messages().get(0));
      for (Sandbox s : list.getSandboxesList()) {
        sandboxes.put(s.getId(), s.getName() + " " + s.getPhase() + " " + s.getCreatedAtMs() + " " + HexFormat.of().formatHex(s.getSpec().toByteArray()));
      }
      String keeperNow = client.get("keeper").toString();
      Map<Long, String> journal = new TreeMap<>();
      List<String> snapshots = new ArrayList<>();
      String integrity;
      org.sqlite.SQLiteConfig readOnly = new org.sqlite.SQLiteConfig();
      readOnly.setReadOnly(true);
      try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db, readOnly.toProperties())) {
        try (ResultSet rows = c.createStatement().executeQuery("SELECT ordering, persistence_id, sequence_number, deleted,"
            + " event_ser_manifest, hex(event_payload) FROM event_journal ORDER BY ordering")) {
          while (rows.next()) {
            journal.put(rows.getLong(1), rows.getString(2) + " " + rows.getLong(3) + " " + rows.getBoolean(4) + " "
                + rows.getString(5) + " " + rows.getString(6));
          }
        }
        try (ResultSet rows = c.createStatement().executeQuery("SELECT persistence_id, sequence_number, hex(snapshot_payload)"
            + " FROM snapshot ORDER BY persistence_id, sequence_number")) {
          while (rows.next()) snapshots.add(rows.getString(1) + " " + rows.getLong(2) + " " + rows.getString(3));
        }
        try (ResultSet rows = c.createStatement().executeQuery("PRAGMA integrity_check")) {
          rows.next();
          integrity = rows.getString(1);
        }
      }
      return new Snapshot(sandboxes, keeperNow, journal, snapshots, integrity);
    }

    java.util.Set<String> persistenceIds() {
      java.util.Set<String> ids = new java.util.HashSet<>();
      for (String row : journal.values()) ids.add(row.substring(0, row.indexOf(' ')));
      return ids;
    }
  }

  // --- helpers ------------------------------------------------------------------------------------

  private static final InternalMetadata.TrustedAsciiMarshaller<byte[]> RAW_ASCII = new InternalMetadata.TrustedAsciiMarshaller<>() {
    @Override
    public byte[] toAsciiString(byte[] value) {
      return value;
    }

    @Override
    public byte[] parseAsciiString(byte[] serialized) {
      return serialized;
    }
  };

  /** On a loaded machine a first call can meet a connection reset; the sandbox may exist by then. */
  private static Sandbox createPatiently(String name) {
    for (int attempt = 1; ; attempt++) {
      try {
        return client.create(name);
      } catch (IllegalStateException failed) {
        try {
          return client.get(name);
        } catch (IllegalStateException missing) {
          if (attempt == 3) throw failed;
        }
      }
    }
  }

  private static void awaitPhase(String name, SandboxPhase phase) {
    Awaits.require(GatewayProcess.startupPatience(), name + " " + phase, () -> client.get(name).getPhase() == phase);
  }

  private static void expect(RawGrpc.Outcome outcome, Status.Code code, String fragment) {
    assertEquals(code, outcome.code(), outcome.toString());
    assertTrue(outcome.description().contains(fragment), () -> "expected \"" + fragment + "\" in: " + outcome);
  }

  private static void expectOk(RawGrpc.Outcome outcome) {
    assertEquals(Status.Code.OK, outcome.code(), outcome.toString());
  }

  private static void expectExit(RawGrpc.Outcome outcome, int code) throws Exception {
    expectOk(outcome);
    String stderr = stderr(outcome);
    assertEquals(Integer.valueOf(code), exitCode(outcome), () -> outcome + " stderr: " + stderr);
  }

  private static Integer exitCode(RawGrpc.Outcome outcome) throws Exception {
    Integer exit = null;
    for (byte[] message : outcome.messages()) {
      ExecSandboxEvent event = ExecSandboxEvent.parseFrom(message);
      if (event.hasExit()) exit = event.getExit().getExitCode();
    }
    return exit;
  }

  private static String stdout(RawGrpc.Outcome outcome) throws Exception {
    StringBuilder out = new StringBuilder();
    for (byte[] message : outcome.messages()) {
      ExecSandboxEvent event = ExecSandboxEvent.parseFrom(message);
      if (event.hasStdout()) out.append(event.getStdout().getData().toStringUtf8());
    }
    return out.toString();
  }

  private static String stderr(RawGrpc.Outcome outcome) throws Exception {
    StringBuilder out = new StringBuilder();
    for (byte[] message : outcome.messages()) {
      ExecSandboxEvent event = ExecSandboxEvent.parseFrom(message);
      if (event.hasStderr()) out.append(event.getStderr().getData().toStringUtf8());
    }
    return out.toString();
  }

  private static byte[] create(String name) {
    return CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build().toByteArray();
  }

  private static byte[] get(String name) {
    return GetSandboxRequest.newBuilder().setName(name).build().toByteArray();
  }

  private static byte[] delete(String name) {
    return DeleteSandboxRequest.newBuilder().setName(name).build().toByteArray();
  }

  private static byte[] sshSession(String sandboxId) {
    return CreateSshSessionRequest.newBuilder().setSandboxId(sandboxId).build().toByteArray();
  }

  private static byte[] revoke(String token) {
    return RevokeSshSessionRequest.newBuilder().setToken(token).build().toByteArray();
  }

  private static byte[] hello(String sandboxId) {
    return SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId).setInstanceId("bad-input"))
        .build().toByteArray();
  }

  private static byte[] init(String channelId) {
    return RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channelId)).build().toByteArray();
  }

  private static byte[] push(String sandboxId, String message) {
    return PushSandboxLogsRequest.newBuilder().setSandboxId(sandboxId)
        .addLogs(SandboxLogLine.newBuilder().setSandboxId(sandboxId).setLevel("INFO").setMessage(message).setSource("sandbox"))
        .build().toByteArray();
  }

  private static ExecSandboxRequest.Builder exec(String sandboxId, String... argv) {
    return ExecSandboxRequest.newBuilder().setSandboxId(sandboxId).addAllCommand(List.of(argv));
  }

  /** {@code true} followed by one-character arguments: {@code count} arguments in all. */
  private static byte[] execArgs(String sandboxId, int count, int argBytes) {
    ExecSandboxRequest.Builder request = exec(sandboxId, "true");
    for (int i = 1; i < count; i++) request.addCommand("a".repeat(argBytes));
    return request.build().toByteArray();
  }

  /** {@code true} and safe arguments whose assembled command (joined by spaces, no quoting) is exactly this long. */
  private static byte[] commandOfBytes(String sandboxId, int bytes) {
    ExecSandboxRequest.Builder request = exec(sandboxId, "true");
    int left = bytes - "true".length();
    while (left > 0) {
      int arg = Math.min(32767, left - 1);
      request.addCommand("a".repeat(arg));
      left -= arg + 1;
    }
    return request.build().toByteArray();
  }

  /** A message of exactly {@code size} bytes, made by one field of a length chosen here. */
  private static byte[] ofSize(int size, IntFunction<byte[]> withFieldOfLength) {
    for (int n = Math.max(0, size - 256); n <= size; n++) {
      byte[] message = withFieldOfLength.apply(n);
      if (message.length == size) return message;
    }
    throw new IllegalArgumentException("no field length gives a message of " + size + " bytes");
  }

  /** The message with an unknown varint field 999 and an unknown length-delimited field 1000 appended. */
  private static byte[] unknownFields(Message message) {
    return concat(message.toByteArray(), new byte[] {(byte) 0xb8, 0x3e, 0x2a, (byte) 0xc2, 0x3e, 0x03, 'a', 'b', 'c'});
  }

  /** A string field holding the bytes C3 28 (a lead byte followed by a non-continuation byte). */
  private static byte[] invalidUtf8Field(int field) {
    return new byte[] {(byte) (field << 3 | 2), 0x02, (byte) 0xc3, 0x28};
  }

  /** A sub-message field around the given bytes (lengths under 128). */
  private static byte[] lengthDelimited(int field, byte[] body) {
    return concat(new byte[] {(byte) (field << 3 | 2), (byte) body.length}, body);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) out.writeBytes(part);
    return out.toByteArray();
  }

  /** The UTF-8 bytes of the text as one char per byte, for heads sent with ISO-8859-1. */
  private static String latin1(String text) {
    return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  private static String printable(String value) {
    String shown = value.length() > 24 ? value.substring(0, 24) + "…(" + value.length() + ")" : value;
    return "'" + shown.replaceAll("\\p{Cntrl}", "?") + "'";
  }

  private static ConnectClient tunnel() throws IOException {
    return new ConnectClient(new InetSocketAddress("127.0.0.1", keeperSsh.getGatewayPort()));
  }

  private static String httpGet(String method, String path) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(gateway.endpoint() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  /** The status of a WebSocket upgrade of /connect/ssh with these header values (null: header left out). */
  private static int webSocket(String sandboxId, String token) throws IOException {
    try (ConnectClient c = new ConnectClient(new InetSocketAddress("127.0.0.1", gateway.port))) {
      StringBuilder head = new StringBuilder("GET /connect/ssh HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
      if (sandboxId != null) head.append("x-sandbox-id: ").append(sandboxId).append("\r\n");
      if (token != null) head.append("x-sandbox-token: ").append(token).append("\r\n");
      return c.send(head.append("\r\n").toString()).status();
    }
  }

  private static String tail(String text, int chars) {
    return text.length() <= chars ? text : text.substring(text.length() - chars);
  }
}

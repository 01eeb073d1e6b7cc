package io.openshell.gateway.tls;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.EchoSupervisor;
import io.openshell.protocol.v1.*;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real gateway with TLS on and its local CA (as {@code openshell gateway start} runs it): who may
 * call which RPC, over real TLS connections with and without client certificates.
 */
class UserAuthenticationIT {
  private static Path state;
  private static TestGateway gateway;
  private static Path tls;

  @BeforeAll
  static void start() throws Exception {
    state = Files.createTempDirectory("user-auth-it");
    gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(), "openshell.gateway.disable-tls = false");
    tls = state.resolve("tls");
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
  }

  private static OpenShellClient client(Optional<Path> cert, Optional<Path> key, Path trust) throws Exception {
    return OpenShellClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", gateway.running.port(), gateway.system)
        .withSslContext(sslContext(cert, key, trust)).withConnectionAttempts(3), gateway.system);
  }

  private static OpenShellClient user() throws Exception {
    return client(Optional.of(tls.resolve("client.crt")), Optional.of(tls.resolve("client.key")), tls.resolve("ca.crt"));
  }

  private static OpenShellClient anonymous() throws Exception {
    return client(Optional.empty(), Optional.empty(), tls.resolve("ca.crt"));
  }

  static SSLContext sslContext(Optional<Path> cert, Optional<Path> key, Path trust) throws Exception {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("ca", PemFiles.readCertificates(trust).get(0));
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trusted);
    KeyManagerFactory keyManagers = null;
    if (cert.isPresent()) {
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("me", PemFiles.readPrivateKey(key.get()), new char[0],
          PemFiles.readCertificates(cert.get()).toArray(X509Certificate[]::new));
      keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, new char[0]);
    }
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers == null ? null : keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    return context;
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Status failure(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }

  private static CreateSandboxRequest create(String name) {
    return CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build();
  }

  @Test
  void theCliCertificateMayCallHealthCreateListAndDelete() throws Exception {
    OpenShellClient user = user();
    try {
      assertEquals(ServiceStatus.SERVICE_STATUS_HEALTHY, await(user.health(HealthRequest.getDefaultInstance())).getStatus());
      await(user.createSandbox(create("user-made")));
      assertTrue(await(user.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesList().stream()
          .anyMatch(s -> s.getName().equals("user-made")));
      assertTrue(await(user.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("user-made").build())).getDeleted());
    } finally {
      user.close();
    }
  }

  @Test
  void aSandboxCredentialWithoutAUserCertificateCannotCreateOrDeleteSandboxes() throws Exception {
    OpenShellClient user = user();
    OpenShellClient anonymous = anonymous();
    try {
      await(user.createSandbox(create("keep-me")));
      Status created = failure(anonymous.createSandbox().addHeader("x-sandbox-credential", "anything").invoke(create("intruder")));
      assertEquals(Status.Code.UNAUTHENTICATED, created.getCode());
      assertTrue(created.getDescription().contains("needs a user client certificate"), created.getDescription());
      assertTrue(created.getDescription().contains("OPENSHELL_TLS_CERT"), "says what to do: " + created.getDescription());
      Status deleted = failure(anonymous.deleteSandbox().addHeader("x-sandbox-credential", "anything")
          .invoke(DeleteSandboxRequest.newBuilder().setName("keep-me").build()));
      assertEquals(Status.Code.UNAUTHENTICATED, deleted.getCode());
      assertEquals(Status.Code.UNAUTHENTICATED, failure(anonymous.health(HealthRequest.getDefaultInstance())).getCode());

      List<String> names = await(user.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesList().stream()
          .map(Sandbox::getName).toList();
      assertTrue(names.contains("keep-me"), "the refused delete did nothing: " + names);
      assertFalse(names.contains("intruder"), "the refused create did nothing: " + names);
    } finally {
      user.close();
      anonymous.close();
    }
  }

  @Test
  void aCertificateOfTheSameCaThatIsNotAUserOneIsRefusedPermissionDenied() throws Exception {
    Path dir = Files.createTempDirectory("sandbox-cert");
    new LocalCertificateAuthority(tls, Clock.systemUTC()).issueClient("sandbox-1234", "openshell-sandbox",
        dir.resolve("s.crt"), dir.resolve("s.key"));
    OpenShellClient sandbox = client(Optional.of(dir.resolve("s.crt")), Optional.of(dir.resolve("s.key")), tls.resolve("ca.crt"));
    try {
      Status refused = failure(sandbox.createSandbox(create("by-a-sandbox")));
      assertEquals(Status.Code.PERMISSION_DENIED, refused.getCode());
      assertTrue(refused.getDescription().contains("is not a user certificate"), refused.getDescription());
      assertTrue(refused.getDescription().contains("CN=sandbox-1234"), refused.getDescription());
    } finally {
      sandbox.close();
    }
  }

  @Test
  void aUserCertificateFromAnotherCaFailsTheHandshake() throws Exception {
    Path other = Files.createTempDirectory("other-ca").resolve("tls");
    new LocalCertificateAuthority(other, Clock.systemUTC()).ensure(List.of());
    OpenShellClient stranger = client(Optional.of(other.resolve("client.crt")), Optional.of(other.resolve("client.key")),
        tls.resolve("ca.crt"));
    try {
      assertEquals(Status.Code.UNAVAILABLE, failure(stranger.health(HealthRequest.getDefaultInstance())).getCode());
    } finally {
      stranger.close();
    }
  }

  @Test
  void supervisorRpcsAreLeftToTheSandboxCredentialCheck() throws Exception {
    OpenShellClient anonymous = anonymous();
    try {
      var stream = anonymous.connectSupervisor(org.apache.pekko.stream.javadsl.Source.single(SupervisorMessage.newBuilder()
          .setHello(SupervisorHello.newBuilder().setSandboxId("no-such-sandbox").setInstanceId("i")).build()))
          .runWith(org.apache.pekko.stream.javadsl.Sink.seq(), gateway.system);
      Status status = failure(stream);
      assertFalse(String.valueOf(status.getDescription()).contains("user client certificate"), status.toString());
    } finally {
      anonymous.close();
    }
  }

  @Test
  void aPlaintextClientGetsNothingFromTheTlsPort() throws Exception {
    OpenShellClient plaintext = OpenShellClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", gateway.running.port(),
        gateway.system).withTls(false).withConnectionAttempts(1), gateway.system);
    try {
      assertEquals(Status.Code.UNAVAILABLE, failure(plaintext.health(HealthRequest.getDefaultInstance())).getCode());
    } finally {
      plaintext.close();
    }
  }

  @Test
  void sshSessionsPointAtTheTlsTunnelWhichAnswersOverTls() throws Exception {
    OpenShellClient user = user();
    OpenShellClient anonymous = anonymous();
    EchoSupervisor supervisor = null;
    try {
      String id = await(user.createSandbox(create("ssh-over-tls"))).getSandbox().getId();
      supervisor = new EchoSupervisor(anonymous, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
      awaitReady(user, "ssh-over-tls");
      CreateSshSessionResponse session = await(user.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(id).build()));
      assertEquals("https", session.getGatewayScheme());
      assertEquals(gateway.running.sshTunnelAddress().getPort(), session.getGatewayPort());

      SSLContext context = sslContext(Optional.empty(), Optional.empty(), tls.resolve("ca.crt"));
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", session.getGatewayPort())) {
        socket.setSoTimeout(30_000);
        socket.getOutputStream().write(("CONNECT /connect/ssh HTTP/1.1\r\nHost: gateway\r\nX-Sandbox-Id: " + id
            + "\r\nX-Sandbox-Token: " + session.getToken() + "\r\n\r\nhello").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        String expected = "HTTP/1.1 200 Connection Established\r\n\r\nhello";
        assertEquals(expected, new String(readN(socket.getInputStream(), expected.length()), StandardCharsets.US_ASCII));
      }
      try (java.net.Socket plain = new java.net.Socket("127.0.0.1", session.getGatewayPort())) {
        plain.setSoTimeout(30_000);
        plain.getOutputStream().write(("CONNECT /connect/ssh HTTP/1.1\r\nHost: gateway\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        byte[] answer = plain.getInputStream().readNBytes(12);
        assertFalse(new String(answer, StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1"), "no plaintext HTTP on the TLS tunnel");
      } catch (java.io.IOException reset) {
        // a reset is a refusal too
      }
    } finally {
      if (supervisor != null) supervisor.close();
      user.close();
      anonymous.close();
    }
  }

  private static void awaitReady(OpenShellClient client, String name) {
    org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(gateway.system).awaitAssert(java.time.Duration.ofSeconds(30), () -> {
      SandboxPhase phase = await(client.getSandbox(GetSandboxRequest.newBuilder().setName(name).build())).getSandbox().getPhase();
      if (phase != SandboxPhase.SANDBOX_PHASE_READY) throw new AssertionError(name + " is " + phase);
      return null;
    });
  }

  private static byte[] readN(InputStream in, int n) throws java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (out.size() < n) {
      int b = in.read();
      if (b < 0) break;
      out.write(b);
    }
    return out.toByteArray();
  }
}

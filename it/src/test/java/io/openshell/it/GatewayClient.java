package io.openshell.it;

import io.openshell.protocol.v1.GetSandboxRequest;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.Sandbox;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/** A gRPC client for the test's own fast checks (polling a phase every 50 ms). */
final class GatewayClient implements AutoCloseable {
  private final ActorSystem<Void> system;
  private final OpenShellClient client;

  GatewayClient(int port) {
    this(port, java.util.Optional.empty());
  }

  /** Over TLS with {@code tls} (trust and, if it has one, a client certificate); plaintext when empty. */
  GatewayClient(int port, java.util.Optional<javax.net.ssl.SSLContext> tls) {
    system = ActorSystem.create(Behaviors.empty(), "e2e-client",
        com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local").withFallback(com.typesafe.config.ConfigFactory.load()));
    GrpcClientSettings settings = GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system).withTls(tls.isPresent());
    if (tls.isPresent()) settings = settings.withSslContext(tls.get());
    client = OpenShellClient.create(settings, system);
  }

  /** The gateway the CLI started for {@code cli}, with the CLI's own certificate when it speaks TLS. */
  static GatewayClient ofLocalGateway(Cli cli) throws java.io.IOException {
    String endpoint = java.nio.file.Files.readString(cli.localGatewayStateDir().resolve("gateway.endpoint")).trim();
    int port = Integer.parseInt(endpoint.replaceAll(".*:", ""));
    if (!endpoint.startsWith("https://")) return new GatewayClient(port);
    java.nio.file.Path tls = cli.localGatewayStateDir().resolve("tls");
    return new GatewayClient(port, java.util.Optional.of(new io.openshell.client.connection.GatewayTls(tls.resolve("ca.crt"),
        java.util.Optional.of(tls.resolve("client.crt")), java.util.Optional.of(tls.resolve("client.key"))).sslContext()));
  }

  OpenShellClient raw() {
    return client;
  }

  Sandbox create(String name) {
    try {
      return client.createSandbox(io.openshell.protocol.v1.CreateSandboxRequest.newBuilder()
              .setSpec(io.openshell.protocol.v1.SandboxSpec.getDefaultInstance()).setName(name).build())
          .toCompletableFuture().get(60, TimeUnit.SECONDS).getSandbox();
    } catch (Exception e) {
      throw new IllegalStateException("CreateSandbox " + name + " failed: " + e.getMessage(), e);
    }
  }

  void delete(String name) {
    try {
      client.deleteSandbox(io.openshell.protocol.v1.DeleteSandboxRequest.newBuilder().setName(name).build())
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("DeleteSandbox " + name + " failed: " + e.getMessage(), e);
    }
  }

  java.util.List<String> names() {
    try {
      return client.listSandboxes(io.openshell.protocol.v1.ListSandboxesRequest.getDefaultInstance())
          .toCompletableFuture().get(20, TimeUnit.SECONDS).getSandboxesList().stream().map(Sandbox::getName).toList();
    } catch (Exception e) {
      throw new IllegalStateException("ListSandboxes failed: " + e.getMessage(), e);
    }
  }

  Sandbox get(String name) {
    try {
      return client.getSandbox(GetSandboxRequest.newBuilder().setName(name).build())
          .toCompletableFuture().get(20, TimeUnit.SECONDS).getSandbox();
    } catch (Exception e) {
      throw new IllegalStateException("GetSandbox " + name + " failed: " + e.getMessage(), e);
    }
  }

  io.openshell.protocol.v1.CreateSshSessionResponse sshSession(String sandboxId) {
    try {
      return client.createSshSession(io.openshell.protocol.v1.CreateSshSessionRequest.newBuilder().setSandboxId(sandboxId).build())
          .toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("CreateSshSession failed: " + e.getMessage(), e);
    }
  }

  Sandbox create(String name, io.openshell.protocol.v1.SandboxSpec spec) {
    try {
      return client.createSandbox(io.openshell.protocol.v1.CreateSandboxRequest.newBuilder().setSpec(spec).setName(name).build())
          .toCompletableFuture().get(60, TimeUnit.SECONDS).getSandbox();
    } catch (Exception e) {
      throw new IllegalStateException("CreateSandbox " + name + " failed: " + e.getMessage(), e);
    }
  }

  /** GetSandboxLogs of every source, as text. */
  String logs(String sandboxId) {
    try {
      return client.getSandboxLogs(io.openshell.protocol.v1.GetSandboxLogsRequest.newBuilder().setSandboxId(sandboxId).setLines(2000).build())
          .toCompletableFuture().get(20, TimeUnit.SECONDS).toString();
    } catch (Exception e) {
      throw new IllegalStateException("GetSandboxLogs failed: " + e.getMessage(), e);
    }
  }

  boolean revokeSshSession(String token) {
    try {
      return client.revokeSshSession(io.openshell.protocol.v1.RevokeSshSessionRequest.newBuilder().setToken(token).build())
          .toCompletableFuture().get(20, TimeUnit.SECONDS).getRevoked();
    } catch (Exception e) {
      throw new IllegalStateException("RevokeSshSession failed: " + e.getMessage(), e);
    }
  }

  /** What one ExecSandbox call produced; stdout is kept only up to 1 MiB but always hashed. */
  record ExecOutcome(String stdout, String stdoutSha256, long stdoutBytes, String stderr, Integer exitCode, Throwable failure) {}

  ExecOutcome exec(io.openshell.protocol.v1.ExecSandboxRequest request, java.time.Duration patience) {
    var digest = newSha256();
    var out = new java.io.ByteArrayOutputStream();
    var err = new java.io.ByteArrayOutputStream();
    long[] total = {0};
    Integer[] exit = {null};
    Throwable failure = null;
    try {
      client.execSandbox(request).runForeach(event -> {
        switch (event.getPayloadCase()) {
          case STDOUT -> {
            byte[] data = event.getStdout().getData().toByteArray();
            digest.update(data);
            total[0] += data.length;
            if (out.size() < 1024 * 1024) out.write(data);
          }
          case STDERR -> err.write(event.getStderr().getData().toByteArray());
          case EXIT -> exit[0] = event.getExit().getExitCode();
          default -> { }
        }
      }, system).toCompletableFuture().get(patience.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      failure = e.getCause();
    } catch (Exception e) {
      failure = e;
    }
    return new ExecOutcome(out.toString(java.nio.charset.StandardCharsets.UTF_8),
        java.util.HexFormat.of().formatHex(digest.digest()), total[0],
        err.toString(java.nio.charset.StandardCharsets.UTF_8), exit[0], failure);
  }

  private static java.security.MessageDigest newSha256() {
    try {
      return java.security.MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() throws Exception {
    client.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}

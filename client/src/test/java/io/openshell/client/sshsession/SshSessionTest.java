package io.openshell.client.sshsession;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import io.openshell.protocol.v1.CreateSshSessionResponse;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class SshSessionTest {
  private static final String TOKEN = "3f2a9c1e-5b7d-4e2f-9a1b-c0ffee00beef";

  private static CreateSshSessionResponse.Builder valid() {
    return CreateSshSessionResponse.newBuilder()
        .setSandboxId("0b6c8a52-1d3e-4f5a-8b7c-9d0e1f2a3b4c")
        .setToken(TOKEN)
        .setGatewayHost("gateway.example.com")
        .setGatewayPort(8080)
        .setGatewayScheme("http")
        .setConnectPath("/connect/ssh")
        .setExpiresAtMs(1_700_000_000_000L);
  }

  private static CliException refused(Consumer<CreateSshSessionResponse.Builder> change) {
    CreateSshSessionResponse.Builder response = valid();
    change.accept(response);
    return assertThrows(CliException.class, () -> GrpcSshSessionMinter.fromResponse(response.build(), "gateway.example.com"));
  }

  @Test
  void aResponseWithinTheContractBecomesASession() {
    SshSession session = GrpcSshSessionMinter.fromResponse(valid().build(), "gateway.example.com");
    assertEquals("0b6c8a52-1d3e-4f5a-8b7c-9d0e1f2a3b4c", session.sandboxId());
    assertEquals("gateway.example.com:8080", session.authority());
    assertEquals("/connect/ssh", session.connectPath());
    assertEquals(1_700_000_000_000L, session.expiresAtMs());
  }

  @Test
  void everyFieldOutsideTheContractIsRefusedWithItsName() {
    for (String bad : List.of("", "a;b", "a b", "a$(id)", "a`id`", "a\nb", "x".repeat(129), "sandbox/1")) {
      assertTrue(refused(r -> r.setSandboxId(bad)).getMessage().contains("sandbox_id"), bad);
    }
    for (String bad : List.of("", "$(id)", "`id`", "a;b", "a b", "a\tb", "a\0b", "t".repeat(4097), "tök")) {
      assertTrue(refused(r -> r.setToken(bad)).getMessage().contains("token"), bad);
    }
    for (String bad : List.of("", "evil; cmd", "evil host", "ev$(id)il", "ev\nil", "evil/x", "h".repeat(254), "gäteway")) {
      assertTrue(refused(r -> r.setGatewayHost(bad)).getMessage().contains("gateway_host"), bad);
    }
    for (int bad : List.of(0, 65536, -1)) {
      assertTrue(refused(r -> r.setGatewayPort(bad)).getMessage().contains("gateway_port"), Integer.toString(bad));
    }
    for (String bad : List.of("", "HTTPS", "ftp", "javascript", "http ")) {
      assertTrue(refused(r -> r.setGatewayScheme(bad)).getMessage().contains("gateway_scheme"), bad);
    }
    for (String bad : List.of("", "connect/ssh", "/connect?x=1", "/connect#x", "/connect ssh", "/connect\tssh", "/a`id`",
        "/a\\b", "/a%zz", "/a%4", "/a\"b", "/a<b>", "/ä")) {
      assertTrue(refused(r -> r.setConnectPath(bad)).getMessage().contains("connect_path"), bad);
    }
  }

  @Test
  void theContractAcceptsItsWholeAlphabet() {
    SshSession session = SshSession.validated("test", "A-z_0.9", "Az09._~+/=-", "[::1]", 65535, "https",
        "/a-b._~!$&'()*+,;=:@/%2F", 0);
    assertEquals("[::1]:65535", session.authority());
    assertEquals("::1", session.socketHost());
    assertEquals("::1", SshSession.validated("test", "s", "t", "::1", 1, "http", "/", 0).socketHost());
    assertEquals("[::1]:1", SshSession.validated("test", "s", "t", "::1", 1, "http", "/", 0).authority());
  }

  @Test
  void theTokenNeverAppearsInARefusalOrInToString() {
    CliException refusal = refused(r -> r.setToken(TOKEN + " ; rm -rf /"));
    assertFalse(refusal.getMessage().contains(TOKEN.substring(0, 8)), refusal.getMessage());
    assertTrue(refusal.getMessage().startsWith("refusing the gateway's CreateSshSession response: token"));
    SshSession session = GrpcSshSessionMinter.fromResponse(valid().build(), "gateway.example.com");
    assertFalse(session.toString().contains(TOKEN));
    assertTrue(session.toString().contains("****beef"));
    assertEquals("****beef", session.redactedToken());
    assertEquals("****", SshSession.redact("abc"));
  }

  @Test
  void aSessionIsReusedUntilAMinuteBeforeItExpiresAndForeverWithoutExpiry() {
    SshSession expiring = SshSession.validated("test", "s", "t", "h", 1, "http", "/", 1_000_000);
    assertTrue(expiring.usableAt(1_000_000 - SshSession.EXPIRY_MARGIN_MS - 1));
    assertFalse(expiring.usableAt(1_000_000 - SshSession.EXPIRY_MARGIN_MS));
    assertTrue(SshSession.validated("test", "s", "t", "h", 1, "http", "/", 0).usableAt(Long.MAX_VALUE));
  }

  @Test
  void anAdvertisedLoopbackOrWildcardHostGivesWayToTheHostTheGatewayWasReachedAt() {
    assertEquals("gw.example.com", GrpcSshSessionMinter.reachableHost("127.0.0.1", "gw.example.com"));
    assertEquals("gw.example.com", GrpcSshSessionMinter.reachableHost("0.0.0.0", "gw.example.com"));
    assertEquals("127.0.0.1", GrpcSshSessionMinter.reachableHost("0.0.0.0", "127.0.0.1"));
    assertEquals("127.0.0.1", GrpcSshSessionMinter.reachableHost("127.0.0.1", "localhost"));
    assertEquals("10.0.0.5", GrpcSshSessionMinter.reachableHost("10.0.0.5", "gw.example.com"));
  }
}

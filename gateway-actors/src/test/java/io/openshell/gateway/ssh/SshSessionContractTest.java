package io.openshell.gateway.ssh;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The CreateSshSession response contract (UPSTREAM §B 43): each field, each way to break it. */
class SshSessionContractTest {
  private static final String ID = "3f2b8c1e-0d7a-4c55-9e61-2b8f0c7d9a10";
  private static final String TOKEN = "0b7e4f3a-5c21-4d8e-a0f9-6e1d2c3b4a59";

  private static List<String> check(String sandboxId, String token, String host, long port, String scheme, String path) {
    return SshSessionContract.violations(sandboxId, token, host, port, scheme, path);
  }

  private static void assertOnly(String field, List<String> violations) {
    assertEquals(1, violations.size(), violations.toString());
    assertTrue(violations.get(0).startsWith(field + ":"), violations.toString());
  }

  @Test
  void aTypicalResponseIsAccepted() {
    assertEquals(List.of(), check(ID, TOKEN, "127.0.0.1", 2222, "http", "/connect/ssh"));
    assertEquals(List.of(), check("a.b_c-1", "AZaz09._~+/=-", "[::1]", 1, "https", "/"));
    assertEquals(List.of(), check(ID, TOKEN, "gateway.example.com", 65535, "http", "/a/b%2F:@!$&'()*+,;=~"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "has space", "semi;colon", "slash/", "dollar$", "new\nline", "ü"})
  void aSandboxIdOutsideItsCharsetIsRejected(String sandboxId) {
    assertOnly("sandbox_id", check(sandboxId, TOKEN, "127.0.0.1", 2222, "http", "/connect/ssh"));
  }

  @Test
  void aSandboxIdIsAtMost128Characters() {
    assertEquals(List.of(), check("a".repeat(128), TOKEN, "h", 1, "http", "/"));
    assertOnly("sandbox_id", check("a".repeat(129), TOKEN, "h", 1, "http", "/"));
    assertOnly("sandbox_id", check(null, TOKEN, "h", 1, "http", "/"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "tok en", "tok;en", "$(id)", "`id`", "a\\b", "quote'", "new\nline", "é"})
  void aTokenOutsideItsCharsetIsRejected(String token) {
    assertOnly("token", check(ID, token, "127.0.0.1", 2222, "http", "/connect/ssh"));
  }

  @Test
  void aTokenIsAtMost4096Characters() {
    assertEquals(List.of(), check(ID, "t".repeat(4096), "h", 1, "http", "/"));
    assertOnly("token", check(ID, "t".repeat(4097), "h", 1, "http", "/"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "host name", "host;rm", "host/path", "user@host", "host_name", "$(id)", "hôst"})
  void aHostOutsideItsCharsetIsRejected(String host) {
    assertOnly("gateway_host", check(ID, TOKEN, host, 2222, "http", "/connect/ssh"));
  }

  @Test
  void aHostIsAtMost253Characters() {
    assertEquals(List.of(), check(ID, TOKEN, "h".repeat(253), 1, "http", "/"));
    assertOnly("gateway_host", check(ID, TOKEN, "h".repeat(254), 1, "http", "/"));
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, 65536, 4294967295L})
  void aPortOutside1To65535IsRejected(long port) {
    assertOnly("gateway_port", check(ID, TOKEN, "127.0.0.1", port, "http", "/connect/ssh"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "HTTP", "Https", "ftp", "http ", "https:", "ws"})
  void aSchemeOtherThanExactlyHttpOrHttpsIsRejected(String scheme) {
    assertOnly("gateway_scheme", check(ID, TOKEN, "127.0.0.1", 2222, scheme, "/connect/ssh"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "connect/ssh", "/connect?x=1", "/connect#frag", "/con nect", "/con\tnect",
      "/con`id`nect", "/con\\nect", "/bad%zz", "/bad%2", "/quote\"", "/angle<", "/pipe|", "/ü"})
  void aConnectPathOutsideRfc3986PathCharactersIsRejected(String path) {
    assertOnly("connect_path", check(ID, TOKEN, "127.0.0.1", 2222, "http", path));
  }

  @Test
  void everyBrokenFieldIsReported() {
    assertEquals(6, check("", "", "", 0, "", "").size());
  }
}

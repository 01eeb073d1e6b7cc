package io.openshell.supervisor.sshd;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Upstream's loopback classification for direct-tcpip targets (UPSTREAM.md §B 56, §C SSH daemon). */
class LoopbackTargetsTest {
  @ParameterizedTest
  @ValueSource(strings = {"127.0.0.1", "127.255.255.254", "127.1.2.3", "localhost", "LOCALHOST", "LocalHost", "::1",
      "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "[::1]", "::ffff:127.0.0.1", "::FFFF:127.9.8.7",
      "0:0:0:0:0:ffff:127.0.0.1", "::ffff:7f00:1"})
  void loopbackTargetsAreAllowed(String host) {
    assertTrue(LoopbackTargets.isLoopback(host), host);
    assertTrue(LoopbackTargets.allows(host, 8080), host);
  }

  @ParameterizedTest
  @ValueSource(strings = {"10.0.0.1", "128.0.0.1", "126.255.255.255", "0.0.0.0", "::", "::2", "1::1", "::ffff:10.0.0.1",
      "::ffff:128.0.0.1", "example.com", "localhost.example.com", "127.0.0.1.nip.io", "127.0.0", "127.0.0.1.5", "127.0.0.256",
      "1270.0.0.1", "", " ", "::1::", ":::1", "gggg::1", "::1%eth0", "0x7f.0.0.1", "2130706433"})
  void everythingElseIsRefused(String host) {
    assertFalse(LoopbackTargets.isLoopback(host), host);
  }

  @Test
  void nullIsRefused() {
    assertFalse(LoopbackTargets.isLoopback(null));
  }

  @Test
  void portsOutsideTheTcpRangeAreRefused() {
    assertTrue(LoopbackTargets.allows("127.0.0.1", 1));
    assertTrue(LoopbackTargets.allows("127.0.0.1", 65535));
    assertFalse(LoopbackTargets.allows("127.0.0.1", 0));
    assertFalse(LoopbackTargets.allows("127.0.0.1", 65536));
    assertFalse(LoopbackTargets.allows("127.0.0.1", -1));
  }
}

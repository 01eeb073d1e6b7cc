package io.openshell.client.forward;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import org.junit.jupiter.api.Test;

class ForwardSpecTest {

  @Test
  void aPortAloneListensOnLoopbackAndAnAddressCanBeGiven() {
    assertEquals(new ForwardSpec("127.0.0.1", 8080), ForwardSpec.parse("8080"));
    assertEquals(new ForwardSpec("0.0.0.0", 3000), ForwardSpec.parse("0.0.0.0:3000"));
    assertEquals(new ForwardSpec("::1", 8080), ForwardSpec.parse("::1:8080"));
    assertEquals(new ForwardSpec("::1", 8080), ForwardSpec.parse("[::1]:8080"));
    assertEquals("[::1]", ForwardSpec.parse("[::1]:8080").sshBindAddress());
    assertEquals("127.0.0.1:8080", ForwardSpec.parse("8080").toString());
  }

  @Test
  void portsOutsideOneTo65535AndGarbageAreRefused() {
    for (String bad : new String[] {"0", "65536", "http", "host:", ":80", "-1", "80x"}) {
      assertThrows(CliException.class, () -> ForwardSpec.parse(bad), bad);
    }
  }
}

package io.openshell.vm.driver;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class GuestEndpointTest {
  private static final String ALIAS = "host.openshell.internal";

  @Test
  void loopbackEndpointsAreRewrittenToTheHostAliasForTheGuest() {
    assertEquals("http://host.openshell.internal:8080", GuestEndpoint.forGuest("http://127.0.0.1:8080", ALIAS));
    assertEquals("http://host.openshell.internal:8080", GuestEndpoint.forGuest("http://localhost:8080", ALIAS));
    assertEquals("http://host.openshell.internal:8080", GuestEndpoint.forGuest("http://LOCALHOST:8080", ALIAS));
    assertEquals("https://host.openshell.internal:9443/base", GuestEndpoint.forGuest("https://127.4.5.6:9443/base", ALIAS));
    assertEquals("http://host.openshell.internal:8080", GuestEndpoint.forGuest("http://[::1]:8080", ALIAS));
  }

  @Test
  void nonLoopbackEndpointsArePreserved() {
    assertEquals("http://10.1.2.3:8080", GuestEndpoint.forGuest("http://10.1.2.3:8080", ALIAS));
    assertEquals("https://gateway.example:443", GuestEndpoint.forGuest("https://gateway.example:443", ALIAS));
    assertEquals("http://128.0.0.1:80", GuestEndpoint.forGuest("http://128.0.0.1:80", ALIAS));
  }

  @Test
  void unspecifiedHostsAreRejectedAsUnreachableFromGuests() {
    for (String endpoint : new String[] {"http://0.0.0.0:8080", "http://[::]:8080", "http://[0:0:0:0:0:0:0:0]:8080"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuestEndpoint.forGuest(endpoint, ALIAS));
      assertTrue(e.getMessage().contains("not reachable from sandbox VMs"), e.getMessage());
      assertTrue(e.getMessage().contains("--grpc-endpoint"), e.getMessage());
    }
  }

  @Test
  void anEndpointWithoutAPortIsRejectedWithAnExample() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GuestEndpoint.forGuest("http://127.0.0.1", ALIAS));
    assertTrue(e.getMessage().contains("needs a host and a port"), e.getMessage());
  }
}

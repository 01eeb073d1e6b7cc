package io.openshell.supervisor.ocsf;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.supervisor.ocsf.NetworkActivities.Endpoint;
import io.openshell.supervisor.ocsf.NetworkActivity.Activity;
import io.openshell.supervisor.ocsf.NetworkActivity.Severity;
import io.openshell.supervisor.ocsf.NetworkActivity.Status;
import org.junit.jupiter.api.Test;

class NetworkActivitiesTest {

  @Test
  void endpointParsing() {
    assertEquals(new Endpoint("gw.example", 8443), Endpoint.parse("https://gw.example:8443"));
    assertEquals(new Endpoint("127.0.0.1", 8080), Endpoint.parse("http://127.0.0.1:8080/some/path"));
    assertEquals(new Endpoint("gw.example", 0), Endpoint.parse("https://gw.example"));
    assertEquals(new Endpoint("gw.example", 0), Endpoint.parse("http://gw.example/"));
    assertEquals(new Endpoint("::1", 9000), Endpoint.parse("http://[::1]:9000"));
    assertEquals(new Endpoint("gw", 443), Endpoint.parse("  https://gw:443  "));
    assertEquals(new Endpoint("", 0), Endpoint.parse("not a url"));
    assertEquals(new Endpoint("", 0), Endpoint.parse(""));
  }

  @Test
  void sessionEventsCarryTheGatewayEndpointAndRelayEventsNone() {
    Endpoint gw = Endpoint.parse("https://gw.example:8443");
    for (NetworkActivity session : java.util.List.of(NetworkActivities.sessionEstablished(gw, "s", 15),
        NetworkActivities.sessionEnded(gw, "sb"), NetworkActivities.sessionFailed(gw, 1, "e"))) {
      assertEquals("gw.example", session.dstHost());
      assertEquals(8443, session.dstPort());
      assertTrue(session.toJson().contains("\"dst_endpoint\":{\"hostname\":\"gw.example\",\"port\":8443}"), session.toJson());
    }
    for (NetworkActivity relay : java.util.List.of(NetworkActivities.relayOpen("c"), NetworkActivities.relayClosed("c"),
        NetworkActivities.relayFailed("c", "e"), NetworkActivities.relayClosedByGateway("c", "r"))) {
      assertNull(relay.dstHost());
      assertFalse(relay.toJson().contains("dst_endpoint"), relay.toJson());
    }
  }

  @Test
  void sessionEvents() {
    Endpoint gw = new Endpoint("gw", 8080);
    NetworkActivity established = NetworkActivities.sessionEstablished(gw, "s1", 15);
    assertEquals(new NetworkActivity(Activity.OPEN, Severity.INFORMATIONAL, Status.SUCCESS,
        "supervisor session established (session_id=s1, heartbeat_secs=15)", "gw", 8080), established);
    assertEquals(new NetworkActivity(Activity.CLOSE, Severity.INFORMATIONAL, Status.SUCCESS,
        "supervisor session ended cleanly (sb-1)", "gw", 8080), NetworkActivities.sessionEnded(gw, "sb-1"));
    assertEquals(new NetworkActivity(Activity.FAIL, Severity.LOW, Status.FAILURE,
        "supervisor session failed, reconnecting (attempt 3): refused", "gw", 8080), NetworkActivities.sessionFailed(gw, 3, "refused"));
  }

  @Test
  void relayEvents() {
    assertEquals(new NetworkActivity(Activity.OPEN, Severity.INFORMATIONAL, Status.SUCCESS, "relay open (channel_id=c)", null, 0),
        NetworkActivities.relayOpen("c"));
    assertEquals(new NetworkActivity(Activity.CLOSE, Severity.INFORMATIONAL, Status.SUCCESS, "relay closed (channel_id=c)", null, 0),
        NetworkActivities.relayClosed("c"));
    assertEquals(new NetworkActivity(Activity.FAIL, Severity.LOW, Status.FAILURE, "relay bridge failed (channel_id=c): boom", null, 0),
        NetworkActivities.relayFailed("c", "boom"));
    NetworkActivity byGateway = NetworkActivities.relayClosedByGateway("c", "timed out");
    assertEquals(Activity.CLOSE, byGateway.activity());
    assertEquals(Severity.INFORMATIONAL, byGateway.severity());
    assertEquals("relay close from gateway (channel_id=c, reason=timed out)", byGateway.message());
    // Upstream gives this event no status: the JSON leaves status out rather than claiming one.
    assertEquals(Status.UNSET, byGateway.status());
    assertFalse(byGateway.toJson().contains("status"), byGateway.toJson());
  }

  @Test
  void jsonNamesActivitySeverityAndStatusAsOcsfDoes() {
    String open = NetworkActivities.relayOpen("c").toJson();
    assertTrue(open.startsWith("{\"class_uid\":4001,\"class_name\":\"Network Activity\""), open);
    assertTrue(open.contains("\"activity_id\":1,\"activity_name\":\"Open\""), open);
    assertTrue(open.contains("\"severity_id\":1,\"severity\":\"Informational\""), open);
    assertTrue(open.contains("\"status_id\":1,\"status\":\"Success\""), open);
    String closed = NetworkActivities.relayClosed("c").toJson();
    assertTrue(closed.contains("\"activity_id\":2,\"activity_name\":\"Close\""), closed);
    String failed = NetworkActivities.relayFailed("c", "boom").toJson();
    assertTrue(failed.contains("\"activity_id\":4,\"activity_name\":\"Fail\""), failed);
    assertTrue(failed.contains("\"severity_id\":2,\"severity\":\"Low\""), failed);
    assertTrue(failed.contains("\"status_id\":2,\"status\":\"Failure\""), failed);
    assertTrue(failed.contains("\"message\":\"relay bridge failed (channel_id=c): boom\""), failed);
  }

  @Test
  void jsonCarriesTheFieldsAndEscapesTheMessage() {
    String json = NetworkActivities.sessionFailed(new Endpoint("gw", 1), 1, "bad \"quote\"\n").toJson();
    assertTrue(json.contains("\"class_uid\":4001"));
    assertTrue(json.contains("\"activity_id\":4"));
    assertTrue(json.contains("\"severity_id\":2"));
    assertTrue(json.contains("\"status_id\":2"));
    assertTrue(json.contains("bad \\\"quote\\\"\\n"));
    assertTrue(json.contains("\"dst_endpoint\":{\"hostname\":\"gw\",\"port\":1}"));
  }
}

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

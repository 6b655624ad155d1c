import { topicFor } from '@quarry/contracts';
import { startTestCluster, testEnv, waitFor, type TestCluster } from '@quarry/testing';
import { AssignerProtocol, Kafka, logLevel, type Admin } from 'kafkajs';

describe("a node's own Kafka consumer group (two nodes)", () => {
  let running: TestCluster;
  let admin: Admin;
  let prefix: string;

  beforeAll(async () => {
    running = await startTestCluster({ size: 2 });
    prefix = running.cluster.nodes[0].options.topicPrefix;
    admin = new Kafka({ clientId: 'quarry-test-groups', brokers: testEnv().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await running?.stop();
  });

  const groups = async () =>
    (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(`${prefix}.`))
      .sort();
  /** Groups whose name holds the node id: the ones a node reads with alone (every node needs every event). */
  const groupsOf = (all: string[], nodeId: string) => all.filter((g) => g.slice(prefix.length + 1).split('.').includes(nodeId));
  const feedOf = (nodeId: string) => `${prefix}.node-feed.${nodeId}`;
  /** The member ids of a group once it is stable with exactly one member. */
  const soleMember = async (groupId: string) => {
    const [group] = (await admin.describeGroups([groupId])).groups;
    return group.state === 'Stable' && group.members.length === 1 ? group.members[0].memberId : undefined;
  };

  it('is one group per node, named after the node; a restarted node resumes it and leaves no group behind', async () => {
    const l1Member = await waitFor("L1's node feed to be joined", () => soleMember(feedOf('L1')));
    await waitFor("L2's node feed to be joined", () => soleMember(feedOf('L2')));
    const before = await groups();
    for (const nodeId of ['L1', 'L2']) expect(groupsOf(before, nodeId)).toEqual([feedOf(nodeId)]);

    await running.cluster.node('L1').sigkill();
    await running.cluster.restart('L1');
    // The dead member leaves once its session times out (6 s); then the new incarnation is alone in it.
    await waitFor('the restarted L1 to be alone in its node feed', async () => {
      const member = await soleMember(feedOf('L1'));
      return member !== undefined && member !== l1Member;
    });
    expect(await groups()).toEqual(before);
  });

  it('reads the node topic only: a session event costs no node a fetch (ADR 22)', async () => {
    await waitFor("L2's node feed to be joined", () => soleMember(feedOf('L2')));
    const [group] = (await admin.describeGroups([feedOf('L2')])).groups;
    const subscribed = group.members.map((m) => AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.topics);
    expect(subscribed).toEqual([[topicFor('node', prefix)]]);
  });
});

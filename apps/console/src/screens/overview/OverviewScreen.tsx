import { Screen } from '../../components/Screen';

/** Health, freshness, alerts and the 30-day backup chart (filled in by the overview work). */
export function OverviewScreen() {
  return (
    <Screen title="Overview">
      <p>Cluster overview.</p>
    </Screen>
  );
}

import { VersionGraph } from '@start9labs/start-sdk'
import { v_0_1_0_0 } from './v0.1.0.0'
import { v_0_2_0_0 } from './v0.2.0.0'
import { v_0_2_1_0 } from './v0.2.1.0'
import { v_0_3_0_0 } from './v0.3.0.0'
import { v_0_3_1_0 } from './v0.3.1.0'
import { v_0_4_0_0 } from './v0.4.0.0'
import { v_0_4_1_0 } from './v0.4.1.0'
import { v_0_4_2_0 } from './v0.4.2.0'
import { v_0_4_3_0 } from './v0.4.3.0'
import { v_0_4_4_0 } from './v0.4.4.0'
import { v_0_4_5_0 } from './v0.4.5.0'
import { v_0_5_0_0 } from './v0.5.0.0'
import { v_0_5_1_0 } from './v0.5.1.0'
import { v_0_6_0_0 } from './v0.6.0.0'
import { v_0_7_0_0 } from './v0.7.0.0'
import { v_0_7_1_0 } from './v0.7.1.0'
import { v_0_8_0_0 } from './v0.8.0.0'
import { v_0_9_0_0 } from './v0.9.0.0'

// The current version, then the older ones.
export const versions = VersionGraph.of({
  current: v_0_9_0_0,
  other: [v_0_8_0_0, v_0_7_1_0, v_0_7_0_0, v_0_6_0_0, v_0_5_1_0, v_0_5_0_0, v_0_4_5_0, v_0_4_4_0, v_0_4_3_0, v_0_4_2_0, v_0_4_1_0, v_0_4_0_0, v_0_3_1_0, v_0_3_0_0, v_0_2_1_0, v_0_2_0_0, v_0_1_0_0],
})

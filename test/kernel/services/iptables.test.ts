// Services through kube-proxy's iptables mode (K3s's default) on a real two-node lab: ./cases.ts.
import { serviceCases } from './cases.js';

serviceCases('iptables');

// Services through kube-proxy's nftables mode (`lab up --proxy-mode nftables`) on a real two-node lab: ./cases.ts.
import { serviceCases } from './cases.js';

serviceCases('nftables');
